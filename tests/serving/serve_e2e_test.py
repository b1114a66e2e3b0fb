"""kiln serve end to end: a model repository with examples/tiny_cnn.onnx and a tiny onnx.helper
model, KServe v2 JSON over loopback HTTP, bad requests, and a clean SIGTERM shutdown.

usage: serve_e2e_test.py KILN_BINARY SOURCE_DIR
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import numpy as np
import onnx
from onnx import TensorProto, helper

HOST = "127.0.0.1"
MAX_BODY_MIB = 1
STARTUP_SECONDS = 60


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def make_repository(root, source_dir):
    cnn = os.path.join(root, "tiny_cnn", "1")
    os.makedirs(cnn)
    shutil.copy(os.path.join(source_dir, "examples", "tiny_cnn.onnx"), os.path.join(cnn, "model.onnx"))
    with open(os.path.join(root, "tiny_cnn", "config.pbtxt"), "w") as f:
        f.write('name: "tiny_cnn"\nplatform: "onnxruntime_onnx"\nmax_batch_size: 8\n'
                'input [ { name: "image" data_type: TYPE_FP32 dims: [ 3, 32, 32 ] } ]\n'
                'dynamic_batching { max_queue_delay_microseconds: 2000 }\n'
                'instance_group [ { count: 2 kind: KIND_CPU } ]\n')
    # y = x * w + b over a [N, 4] input; no config.pbtxt: auto-completed from the model.
    graph = helper.make_graph(
        [helper.make_node("Mul", ["x", "w"], ["t"]), helper.make_node("Add", ["t", "b"], ["y"])],
        "affine",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4])],
        [helper.make_tensor("w", TensorProto.FLOAT, [4], [1.5, -2.0, 0.5, 3.0]),
         helper.make_tensor("b", TensorProto.FLOAT, [4], [0.25, 1.0, -1.0, 2.0])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    affine = os.path.join(root, "affine", "3")
    os.makedirs(affine)
    onnx.save(model, os.path.join(affine, "model.onnx"))


class Client:
    def __init__(self, port):
        self.base = f"http://{HOST}:{port}"

    def request(self, method, path, body=None, raw=None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                text = r.read()
                return r.status, (json.loads(text) if text else None)
        except urllib.error.HTTPError as e:
            text = e.read()
            try:
                return e.code, json.loads(text) if text else None
            except ValueError:
                return e.code, {"error": text.decode(errors="replace")}


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def reference_affine(x):
    return x * np.array([1.5, -2.0, 0.5, 3.0], np.float32) + np.array([0.25, 1.0, -1.0, 2.0], np.float32)


def main():
    kiln, source_dir = sys.argv[1], sys.argv[2]
    rng = np.random.default_rng(2024)
    with tempfile.TemporaryDirectory() as root:
        make_repository(root, source_dir)
        port = free_port()
        proc = subprocess.Popen([kiln, "serve", "--model-repository", root, "--http-port", str(port),
                                 "--http-max-body-mib", str(MAX_BODY_MIB)],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        client = Client(port)
        try:
            deadline = time.time() + STARTUP_SECONDS
            while True:
                try:
                    if client.request("GET", "/v2/health/ready")[0] == 200:
                        break
                except (urllib.error.URLError, ConnectionError):
                    pass
                check(proc.poll() is None, "kiln serve exited during start-up")
                check(time.time() < deadline, "kiln serve did not become ready")
                time.sleep(0.2)

            check(client.request("GET", "/v2/health/live")[0] == 200, "live")
            status, meta = client.request("GET", "/v2")
            check(status == 200 and meta["name"] == "kiln", f"server metadata: {meta}")
            status, meta = client.request("GET", "/v2/models/tiny_cnn")
            check(status == 200 and meta["inputs"][0] == {"name": "image", "datatype": "FP32", "shape": [-1, 3, 32, 32]},
                  f"tiny_cnn metadata: {meta}")
            check(meta["outputs"][0]["name"] == "probabilities", f"outputs: {meta}")
            status, meta = client.request("GET", "/v2/models/affine/versions/3")
            check(status == 200 and meta["versions"] == ["3"] and meta["inputs"][0]["shape"] == [2, 4], f"affine: {meta}")
            check(client.request("GET", "/v2/models/affine/ready")[0] == 200, "affine ready")
            check(client.request("GET", "/v2/models/affine/versions/1/ready")[0] != 200, "version 1 is not loaded")
            status, config = client.request("GET", "/v2/models/tiny_cnn/config")
            check(status == 200 and config["max_batch_size"] == 8, f"config: {config}")

            # JSON inference, nested data, compared with numpy.
            x = rng.standard_normal((2, 4)).astype(np.float32)
            status, out = client.request("POST", "/v2/models/affine/infer", {
                "id": "req-7", "inputs": [{"name": "x", "shape": [2, 4], "datatype": "FP32", "data": x.tolist()}]})
            check(status == 200, f"affine infer: {status} {out}")
            check(out["id"] == "req-7" and out["model_version"] == "3", f"id/version: {out}")
            y = np.array(out["outputs"][0]["data"], np.float32).reshape(out["outputs"][0]["shape"])
            check(np.allclose(y, reference_affine(x), atol=1e-5), f"affine values {y} vs {reference_affine(x)}")

            # tiny_cnn: flat data, batch of 2; softmax rows sum to 1; batch rows independent.
            image = rng.standard_normal((2, 3, 32, 32)).astype(np.float32)
            status, out = client.request("POST", "/v2/models/tiny_cnn/infer", {
                "inputs": [{"name": "image", "shape": [2, 3, 32, 32], "datatype": "FP32",
                            "data": image.reshape(-1).tolist()}],
                "outputs": [{"name": "probabilities"}]})
            check(status == 200, f"tiny_cnn infer: {status} {out}")
            probs = np.array(out["outputs"][0]["data"], np.float32).reshape(out["outputs"][0]["shape"])
            check(probs.shape == (2, 10) and np.allclose(probs.sum(axis=1), 1.0, atol=1e-4), f"probs {probs}")
            status, single = client.request("POST", "/v2/models/tiny_cnn/infer", {
                "inputs": [{"name": "image", "shape": [1, 3, 32, 32], "datatype": "FP32", "data": image[1:].reshape(-1).tolist()}]})
            check(status == 200, f"single: {single}")
            check(np.allclose(np.array(single["outputs"][0]["data"]), probs[1], atol=1e-5), "batch row 1 differs from a single run")

            # Bad requests: each gets a clear error and the server keeps serving.
            bad = [
                ("/v2/models/affine/infer", b"{not json", 400, "malformed"),
                ("/v2/models/affine/infer", json.dumps({"inputs": [{"name": "x", "shape": [3, 4], "datatype": "FP32",
                                                                     "data": [0.0] * 12}]}).encode(), 400, "shape"),
                ("/v2/models/affine/infer", json.dumps({"inputs": [{"name": "x", "shape": [2, 4], "datatype": "INT32",
                                                                     "data": [1] * 8}]}).encode(), 400, "datatype"),
                ("/v2/models/affine/infer", json.dumps({"inputs": [{"name": "x", "shape": [2, 4], "datatype": "FP32",
                                                                     "data": [1.0] * 7}]}).encode(), 400, "elements"),
                ("/v2/models/affine/infer", json.dumps({"inputs": [{"name": "x", "shape": [2, 4], "datatype": "FLOAT",
                                                                     "data": [1.0] * 8}]}).encode(), 400, "datatype"),
                ("/v2/models/nope/infer", json.dumps({"inputs": []}).encode(), 404, "unknown model"),
                ("/v2/models/..%2F..%2Fetc/infer", json.dumps({"inputs": []}).encode(), 404, "unknown model"),
            ]
            for path, body, code, words in bad:
                status, out = client.request("POST", path, raw=body)
                check(status == code and words in out["error"], f"{path} {body[:60]!r}: got {status} {out}")
            status, out = client.request("GET", "/v2/models/nope")
            check(status == 404 and "error" in out, f"unknown model metadata: {status} {out}")

            oversize = b'{"inputs": [], "pad": "' + b"x" * (MAX_BODY_MIB * 2 << 20) + b'"}'
            try:
                status, _ = client.request("POST", "/v2/models/affine/infer", raw=oversize)
                check(status == 413, f"oversize body: {status}")
            except (ConnectionError, urllib.error.URLError):
                pass  # the server may close the connection before reading the whole body

            status, out = client.request("POST", "/v2/models/affine/infer", {
                "inputs": [{"name": "x", "shape": [2, 4], "datatype": "FP32", "data": x.reshape(-1).tolist()}]})
            check(status == 200, f"still serving after bad requests: {status} {out}")
            status, stats = client.request("GET", "/v2/models/affine/stats")
            check(status == 200 and stats["model_stats"][0]["inference_stats"]["success"]["count"] >= 2, f"stats {stats}")
            status, index = client.request("POST", "/v2/repository/index", {})
            check(status == 200 and {e["name"] for e in index} == {"affine", "tiny_cnn"}, f"index {index}")
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            try:
                code = proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                code = proc.wait()
            log = proc.stdout.read().decode(errors="replace")
        check(code == 0, f"kiln serve exit code {code}; log:\n{log}")
    print("serve e2e: all checks passed")


if __name__ == "__main__":
    main()
