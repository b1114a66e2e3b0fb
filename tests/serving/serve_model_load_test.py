"""kiln serve --model-load-threads: models load at once at start-up (every model's "loading" line
comes before the first "ready"), one at a time with 1 (each "ready" before the next "loading"),
every model serves afterwards, and a bad value is refused.

usage: serve_model_load_test.py KILN_BINARY
"""
import re
import subprocess
import sys
import tempfile

import numpy as np
from onnx import TensorProto, helper

from serve_test_util import KilnServer, check, http_request, save_model

MODELS = ("slow_a", "slow_b", "slow_c")
# Each load warms up for about half a second on the 2-core machine (a [32,128] x [128,128] MatMul
# this many times): long next to starting a thread, so the log's order shows the overlap.
WARMUP_RUNS = 30000
FEATURES = 128
ROWS = 32


def make_repository(root, rng):
    weights = {}
    for name in MODELS:
        w = rng.standard_normal((FEATURES, FEATURES)).astype(np.float32)
        weights[name] = w
        save_model(root, name, 1, [helper.make_node("MatMul", ["x", "w"], ["y"])],
                   [helper.make_tensor_value_info("x", TensorProto.FLOAT, [ROWS, FEATURES])],
                   [helper.make_tensor_value_info("y", TensorProto.FLOAT, [ROWS, FEATURES])],
                   [helper.make_tensor("w", TensorProto.FLOAT, [FEATURES, FEATURES], w.flatten().tolist())],
                   config=f'name: "{name}"\nmodel_warmup [ {{ name: "busy" batch_size: 1 count: {WARMUP_RUNS}\n'
                          f'  inputs {{ key: "x" value: {{ data_type: TYPE_FP32 dims: [ {ROWS}, {FEATURES} ] '
                          'zero_data: true } } } ]\n')
    return weights


def load_events(log):
    """[(event, model)] in log order, for the 'loading' and 'ready' lines."""
    return [(m.group(2), m.group(1)) for m in re.finditer(r"model '([a-z_]+)': (loading|ready)\b", log)]


def check_serving(server, weights, rng):
    for name, w in weights.items():
        x = rng.standard_normal((ROWS, FEATURES)).astype(np.float32)
        status, out = http_request(server.http_port, "POST", f"/v2/models/{name}/infer", {"inputs": [
            {"name": "x", "shape": [ROWS, FEATURES], "datatype": "FP32", "data": x.flatten().tolist()}]})
        check(status == 200, f"{name}: {status} {out}")
        got = np.array(out["outputs"][0]["data"], np.float32).reshape(ROWS, FEATURES)
        check(np.allclose(got, x @ w, rtol=1e-4, atol=1e-3), f"{name}: wrong answer after a concurrent load")


def run(kiln, root, threads, weights, rng):
    server = KilnServer(kiln, ["--model-repository", root, "--model-load-threads", str(threads)])
    try:
        check_serving(server, weights, rng)
    finally:
        code, log = server.stop()
    check(code == 0, f"kiln serve exited with {code}:\n{log}")
    events = load_events(log)
    check(sorted(m for e, m in events if e == "loading") == sorted(MODELS) and
          sorted(m for e, m in events if e == "ready") == sorted(MODELS), f"load lines: {events}\n{log}")
    return events


def main():
    kiln = sys.argv[1]
    rng = np.random.default_rng(4)
    with tempfile.TemporaryDirectory() as root:
        weights = make_repository(root, rng)
        events = run(kiln, root, len(MODELS), weights, rng)
        first_ready = next(i for i, (e, _) in enumerate(events) if e == "ready")
        check(first_ready == len(MODELS), f"with {len(MODELS)} load threads every model should start loading "
                                          f"before the first is ready: {events}")
        events = run(kiln, root, 1, weights, rng)
        check(all(events[i][0] == "loading" and events[i + 1] == ("ready", events[i][1]) for i in range(0, len(events), 2)),
              f"with one load thread each model should be ready before the next loads: {events}")
        bad = subprocess.run([kiln, "serve", "--model-repository", root, "--model-load-threads", "0"], capture_output=True, text=True)
        check(bad.returncode != 0 and "model-load-threads" in (bad.stderr + bad.stdout), f"--model-load-threads 0: {bad}")
    print("kiln serve --model-load-threads: concurrent and serial loads, answers checked, bad value refused: OK")


if __name__ == "__main__":
    main()
