"""kiln serve --model-control-mode poll over real sockets, on a repository the test edits while
the server runs:
- a model directory moved into the repository loads and serves;
- a new version directory, then a config.pbtxt that changes the version policy, reload the model
  while clients keep sending requests: every request succeeds with one version's values, none is
  refused or lost;
- a broken config.pbtxt leaves the loaded model serving and the server logs the file and field;
- a removed model directory unloads (not in the index, not ready, 404 on infer);
- a model whose load is slow (a long model_warmup) shows as LOADING in the index, is not ready and
  refuses inference with 503 while it loads, and the other models keep serving meanwhile;
- the repository load/unload endpoints refuse in poll mode, as Triton's do;
- bad --repository-poll-secs values are refused at start, and the flag outside poll mode is
  reported as ignored.

usage: serve_poll_test.py KILN_BINARY SOURCE_DIR
"""
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np
from onnx import TensorProto, helper

from serve_test_util import (AFFINE_B, AFFINE_W, KilnServer, check, http_request, reference_affine, save_model,
                             wait_until)

POLL_SECONDS = 0.3
CHANGE_SECONDS = 30  # a poll plus a load on a loaded 2-core machine
CLIENT_THREADS = 3
NEW_W = np.array([-1.0, 4.0, 0.0, 2.5], np.float32)
NEW_B = np.array([3.0, -3.0, 0.5, 0.0], np.float32)
# About 3 s of warmup on a 2-core machine (so that a much faster one still loads for long enough
# to be seen): a [64,256] x [256,256] MatMul run this many times.
SLOW_WARMUP_RUNS = 50000
SLOW_FEATURES = 256
SLOW_ROWS = 64


def save_affine(root, version, w, b):
    save_model(root, "affine", version,
               [helper.make_node("Mul", ["x", "w"], ["t"]), helper.make_node("Add", ["t", "b"], ["y"])],
               [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])],
               [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4])],
               [helper.make_tensor("w", TensorProto.FLOAT, [4], w.tolist()),
                helper.make_tensor("b", TensorProto.FLOAT, [4], b.tolist())])


def save_add_int(root):
    save_model(root, "add_int", 1, [helper.make_node("Add", ["a", "b"], ["c"])],
               [helper.make_tensor_value_info("a", TensorProto.INT32, [3]),
                helper.make_tensor_value_info("b", TensorProto.INT32, [3])],
               [helper.make_tensor_value_info("c", TensorProto.INT32, [3])])


def move_in(staging, root, relative):
    """Renamed into place, so that no poll sees a half-written directory."""
    os.rename(os.path.join(staging, relative), os.path.join(root, relative))


def ready_versions(port, name):
    status, entries = http_request(port, "POST", "/v2/repository/index", {})
    check(status == 200, f"index: {status} {entries}")
    return sorted(e["version"] for e in entries if e["name"] == name and e.get("state") == "READY")


def listed(port, name):
    status, entries = http_request(port, "POST", "/v2/repository/index", {})
    check(status == 200, f"index: {status} {entries}")
    return any(e["name"] == name for e in entries)


def infer_affine(port, x, version=None):
    path = "/v2/models/affine" + (f"/versions/{version}" if version else "") + "/infer"
    status, out = http_request(port, "POST", path, {
        "inputs": [{"name": "x", "datatype": "FP32", "shape": [2, 4], "data": x.flatten().tolist()}]})
    y = np.array(out["outputs"][0]["data"], np.float32).reshape(2, 4) if status == 200 else None
    return status, out, y


def check_add_int(port):
    status, out = http_request(port, "POST", "/v2/models/add_int/infer", {"inputs": [
        {"name": "a", "datatype": "INT32", "shape": [3], "data": [1, 2, 3]},
        {"name": "b", "datatype": "INT32", "shape": [3], "data": [10, 20, 30]}]})
    check(status == 200 and out["outputs"][0]["data"] == [11, 22, 33], f"add_int infer: {status} {out}")


def check_reload_under_load(port, root, staging):
    """Clients send to affine (latest version) while version 4 appears, then while a config makes
    both versions served. A reload installs the new model before the old one drains, so nothing
    may fail."""
    outcomes = {"v3": 0, "v4": 0}
    failures = []
    lock = threading.Lock()
    stop = threading.Event()

    def client(seed):
        rng = np.random.default_rng(seed)
        while not stop.is_set():
            x = rng.standard_normal((2, 4)).astype(np.float32)
            try:
                status, out, y = infer_affine(port, x)
            except OSError as e:
                status, out, y = None, str(e), None
            with lock:
                if status != 200:
                    failures.append(f"{status}: {out}")
                elif np.allclose(y, reference_affine(x), rtol=1e-6):
                    outcomes["v3"] += 1
                elif np.allclose(y, x * NEW_W + NEW_B, rtol=1e-6):
                    outcomes["v4"] += 1
                else:
                    failures.append(f"values of neither version: {y}")

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENT_THREADS)]
    for t in threads:
        t.start()
    try:
        time.sleep(0.5)
        save_affine(staging, 4, NEW_W, NEW_B)
        move_in(staging, root, os.path.join("affine", "4"))
        wait_until(lambda: ready_versions(port, "affine") == ["4"], "version 4 replacing version 3", CHANGE_SECONDS)
        time.sleep(0.5)
        with open(os.path.join(root, "affine", "config.pbtxt"), "w") as f:
            f.write('name: "affine"\nversion_policy { all { } }\n')
        wait_until(lambda: ready_versions(port, "affine") == ["3", "4"], "both versions after the config change",
                   CHANGE_SECONDS)
        time.sleep(0.5)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
    check(not any(t.is_alive() for t in threads), "a client thread hung")
    check(not failures, f"{len(failures)} requests failed during reloads, e.g. {failures[:3]}")
    check(outcomes["v3"] > 0 and outcomes["v4"] > 0, f"the load did not overlap the reload: {outcomes}")
    print(f"reload under load: {outcomes['v3']} answered by version 3, {outcomes['v4']} by version 4, none failed")
    x = np.ones((2, 4), np.float32)
    status, out, y = infer_affine(port, x, version="3")
    check(status == 200 and np.allclose(y, reference_affine(x)), f"version 3 after the policy change: {status} {out}")


def check_broken_config(server, root):
    """A config that does not parse keeps the loaded model; the log names the file and field."""
    with open(os.path.join(root, "add_int", "config.pbtxt"), "w") as f:
        f.write('name: "add_int"\nmax_batch_size: "many"\n')
    wait_until(lambda: "add_int/config.pbtxt:2" in server.log_so_far(), "the log naming the broken config line",
               CHANGE_SECONDS)
    check(ready_versions(server.http_port, "add_int") == ["1"], "add_int no longer ready after a broken config")
    check_add_int(server.http_port)
    os.remove(os.path.join(root, "add_int", "config.pbtxt"))


def check_removed(port, root):
    shutil.rmtree(os.path.join(root, "affine"))
    wait_until(lambda: not listed(port, "affine"), "affine gone from the index", CHANGE_SECONDS)
    status, _ = http_request(port, "GET", "/v2/models/affine/ready")
    check(status != 200, "a removed model is still ready")
    status, out, _ = infer_affine(port, np.ones((2, 4), np.float32))
    check(status == 404 and "affine" in out["error"], f"infer on a removed model: {status} {out}")
    check_add_int(port)


def check_loading_state(port, root, staging):
    save_model(staging, "slow", 1, [helper.make_node("MatMul", ["x", "w"], ["y"])],
               [helper.make_tensor_value_info("x", TensorProto.FLOAT, [SLOW_ROWS, SLOW_FEATURES])],
               [helper.make_tensor_value_info("y", TensorProto.FLOAT, [SLOW_ROWS, SLOW_FEATURES])],
               [helper.make_tensor("w", TensorProto.FLOAT, [SLOW_FEATURES, SLOW_FEATURES],
                                   np.ones(SLOW_FEATURES * SLOW_FEATURES, np.float32).tolist())],
               config=f'name: "slow"\nmodel_warmup [ {{ name: "busy" batch_size: 1 count: {SLOW_WARMUP_RUNS}\n'
                      f'  inputs {{ key: "x" value: {{ data_type: TYPE_FP32 dims: [ {SLOW_ROWS}, {SLOW_FEATURES} ] '
                      'zero_data: true } } } ]\n')
    move_in(staging, root, "slow")

    def state():
        status, entries = http_request(port, "POST", "/v2/repository/index", {})
        check(status == 200, f"index: {status} {entries}")
        return next((e.get("state", "") for e in entries if e["name"] == "slow"), None)

    wait_until(lambda: state() in ("LOADING", "READY"), "slow model picked up by a poll", CHANGE_SECONDS)
    loading_seen = time.monotonic()
    check(state() == "LOADING", "the slow model was READY at once: its warmup is too short to see LOADING")
    status, _ = http_request(port, "GET", "/v2/models/slow/ready")
    check(status != 200, "a loading model answered ready")
    status, out = http_request(port, "POST", "/v2/models/slow/infer", {"inputs": [
        {"name": "x", "datatype": "FP32", "shape": [SLOW_ROWS, SLOW_FEATURES], "data": [0.0] * (SLOW_ROWS * SLOW_FEATURES)}]})
    check(status == 503 and "loading" in out["error"], f"infer on a loading model: {status} {out}")
    status, _ = http_request(port, "GET", "/v2/health/ready")
    check(status != 200, "the server answered ready while a model loads")
    check_add_int(port)  # loads run beside serving, not in its way
    check(state() == "LOADING", "the load ended before the checks: they did not see LOADING throughout")
    wait_until(lambda: state() == "READY", "slow model READY after its warmup", CHANGE_SECONDS * 2)
    print(f"slow model: LOADING for {time.monotonic() - loading_seen:.1f} s after a poll found it, then READY")
    status, _ = http_request(port, "GET", "/v2/models/slow/ready")
    check(status == 200, "the slow model is READY in the index but not ready")


def check_repository_api_refused(port):
    for action in ("load", "unload"):
        status, out = http_request(port, "POST", f"/v2/repository/models/add_int/{action}", {})
        check(status != 200 and "not allowed" in out["error"], f"{action} in poll mode: {status} {out}")


def check_bad_interval(kiln, root):
    for value in ("0", "-1", "soon"):
        result = subprocess.run([kiln, "serve", "--model-repository", root, "--model-control-mode", "poll",
                                 "--repository-poll-secs", value], capture_output=True, text=True, timeout=30)
        check(result.returncode != 0 and "repository-poll-secs" in result.stderr,
              f"--repository-poll-secs {value}: exit {result.returncode}, {result.stderr!r}")


def check_interval_ignored_outside_poll(kiln, root):
    server = KilnServer(kiln, ["--model-repository", root, "--repository-poll-secs", "1", "--no-engine-cache"])
    code, log = server.stop()
    check(code == 0 and "--repository-poll-secs is ignored" in log, f"no warning for the interval in none mode:\n{log}")


def main():
    kiln = sys.argv[1]
    with tempfile.TemporaryDirectory() as directory:
        root, staging = os.path.join(directory, "models"), os.path.join(directory, "staging")
        os.makedirs(root)
        save_add_int(root)
        check_bad_interval(kiln, root)
        check_interval_ignored_outside_poll(kiln, root)
        server = KilnServer(kiln, ["--model-repository", root, "--model-control-mode", "poll",
                                   "--repository-poll-secs", str(POLL_SECONDS), "--no-engine-cache"],
                            ready=lambda s: s.answers_ok("/v2/health/ready"))
        try:
            port = server.http_port
            check(ready_versions(port, "add_int") == ["1"], "add_int not loaded at start")
            check(not listed(port, "affine"), "affine listed before it exists")
            save_affine(staging, 3, AFFINE_W, AFFINE_B)
            move_in(staging, root, "affine")
            wait_until(lambda: ready_versions(port, "affine") == ["3"], "affine loading once added", CHANGE_SECONDS)
            x = np.arange(8, dtype=np.float32).reshape(2, 4)
            status, out, y = infer_affine(port, x)
            check(status == 200 and np.allclose(y, reference_affine(x)), f"affine after it was added: {status} {out}")
            os.makedirs(os.path.join(staging, "affine"))
            check_reload_under_load(port, root, staging)
            check_broken_config(server, root)
            check_removed(port, root)
            check_loading_state(port, root, staging)
            check_repository_api_refused(port)
            check(server.alive(), "kiln serve died")
        finally:
            code, log = server.stop()
        check(code == 0, f"kiln serve exit code {code}; log:\n{log}")
        for line in ("'affine': added to the repository", "'affine': changed in the repository",
                     "'affine': removed from the repository"):
            check(line in log, f"the log lacks {line!r}:\n{log}")
    print("serve poll: all checks passed")


if __name__ == "__main__":
    main()
