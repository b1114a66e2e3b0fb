"""kiln serve end to end: a model repository with examples/tiny_cnn.onnx and a tiny onnx.helper
model, KServe v2 JSON and binary tensors over loopback HTTP, Prometheus metrics, bad requests,
and a clean SIGTERM shutdown.

usage: serve_e2e_test.py KILN_BINARY SOURCE_DIR
"""
import json
import math
import os
import re
import shutil
import signal
import socket
import struct
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

    def raw_request(self, method, path, data=None, headers=None):
        """Returns (status, response headers, body bytes)."""
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

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


def binary_infer_body(header, *tensors):
    """A KServe v2 binary request: JSON header, then the tensor bytes; returns (body, headers)."""
    json_bytes = json.dumps(header).encode()
    body = json_bytes + b"".join(tensors)
    return body, {"Content-Type": "application/octet-stream", "Inference-Header-Content-Length": str(len(json_bytes))}


def length_prefixed(strings):
    return b"".join(struct.pack("<I", len(s)) + s for s in strings)


def split_binary_response(headers, body):
    length = int(headers["Inference-Header-Content-Length"])
    return json.loads(body[:length]), body[length:]


METRIC_LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (-?[0-9.eE+-]+|\+Inf|-Inf|NaN)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')


def parse_prometheus(text):
    """Parses the text exposition format strictly; returns {(name, frozenset(labels)): value}."""
    samples, types = {}, {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line:
            continue
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            parts = line.split()
            check(len(parts) == 4 and parts[3] in ("counter", "gauge", "histogram", "summary", "untyped"),
                  f"metrics line {number}: bad TYPE line {line!r}")
            check(parts[2] not in types, f"metrics line {number}: family {parts[2]} declared twice")
            types[parts[2]] = parts[3]
            continue
        check(not line.startswith("#"), f"metrics line {number}: unknown comment {line!r}")
        m = METRIC_LINE.match(line)
        check(m is not None, f"metrics line {number}: not a sample: {line!r}")
        name, label_text, value = m.group(1), m.group(3) or "", m.group(4)
        labels, position = {}, 0
        while position < len(label_text):
            lm = LABEL.match(label_text, position)
            check(lm is not None, f"metrics line {number}: bad labels {label_text!r}")
            labels[lm.group(1)] = lm.group(2)
            position = lm.end()
        family = re.sub(r"_(bucket|sum|count)$", "", name) if name not in types else name
        check(family in types, f"metrics line {number}: sample {name} has no TYPE line")
        key = (name, frozenset(labels.items()))
        check(key not in samples, f"metrics line {number}: duplicate sample {line!r}")
        samples[key] = float(value)
    return samples, types


def metric(samples, name, **labels):
    return samples[(name, frozenset(labels.items()))]


def check_histogram(samples, name, labels):
    buckets = sorted(((float(dict(k)["le"]), v) for (n, k), v in samples.items()
                      if n == name + "_bucket" and {a: b for a, b in k if a != "le"} == labels), key=lambda b: b[0])
    check(buckets and math.isinf(buckets[-1][0]), f"{name}: no +Inf bucket")
    counts = [v for _, v in buckets]
    check(counts == sorted(counts), f"{name}: buckets are not cumulative: {buckets}")
    check(counts[-1] == metric(samples, name + "_count", **labels), f"{name}: +Inf bucket differs from _count")
    return counts[-1]


def reference_affine(x):
    return x * np.array([1.5, -2.0, 0.5, 3.0], np.float32) + np.array([0.25, 1.0, -1.0, 2.0], np.float32)


def main():
    kiln, source_dir = sys.argv[1], sys.argv[2]
    rng = np.random.default_rng(2024)
    with tempfile.TemporaryDirectory() as root:
        make_repository(root, source_dir)
        port = free_port()
        metrics_port = free_port()
        proc = subprocess.Popen([kiln, "serve", "--model-repository", root, "--http-port", str(port), "--grpc-port", "0",
                                 "--metrics-port", str(metrics_port),
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
            affine_successes = 1

            # Binary tensor extension: binary input, binary output.
            xb = rng.standard_normal((2, 4)).astype(np.float32)
            body, headers = binary_infer_body({"inputs": [{"name": "x", "shape": [2, 4], "datatype": "FP32",
                                                          "parameters": {"binary_data_size": xb.nbytes}}],
                                               "outputs": [{"name": "y", "parameters": {"binary_data": True}}]},
                                              xb.astype("<f4").tobytes())
            status, rheaders, rbody = client.raw_request("POST", "/v2/models/affine/infer", body, headers)
            check(status == 200 and "Inference-Header-Content-Length" in rheaders, f"binary infer: {status} {rbody[:200]}")
            header, tail = split_binary_response(rheaders, rbody)
            out0 = header["outputs"][0]
            check("data" not in out0 and out0["parameters"]["binary_data_size"] == len(tail) == 32, f"binary output: {header}")
            yb = np.frombuffer(tail, "<f4").reshape(out0["shape"])
            check(np.allclose(yb, reference_affine(xb), atol=1e-5), f"binary affine values {yb}")
            affine_successes += 1
            # Request-level binary_data_output with a JSON input; an unaligned JSON header length.
            xj = rng.standard_normal((2, 4)).astype(np.float32)
            body, headers = binary_infer_body({"parameters": {"binary_data_output": True}, "id": "a" * 3,
                                               "inputs": [{"name": "x", "shape": [2, 4], "datatype": "FP32",
                                                           "parameters": {"binary_data_size": 32}}]},
                                              xj.astype("<f4").tobytes())
            status, rheaders, rbody = client.raw_request("POST", "/v2/models/affine/infer", body, headers)
            check(status == 200, f"binary_data_output: {status} {rbody[:200]}")
            header, tail = split_binary_response(rheaders, rbody)
            check(np.allclose(np.frombuffer(tail, "<f4").reshape(2, 4), reference_affine(xj), atol=1e-5), "binary_data_output values")
            affine_successes += 1
            # Both alignments of the binary section: pad the JSON header by one byte at a time.
            for pad in range(4):
                xp = rng.standard_normal((2, 4)).astype(np.float32)
                body, headers = binary_infer_body({"id": "p" * pad, "inputs": [{"name": "x", "shape": [2, 4], "datatype": "FP32",
                                                                               "parameters": {"binary_data_size": 32}}]},
                                                  xp.astype("<f4").tobytes())
                status, _, rbody = client.raw_request("POST", "/v2/models/affine/infer", body, headers)
                check(status == 200, f"padded binary {pad}: {status} {rbody[:200]}")
                y = np.array(json.loads(rbody)["outputs"][0]["data"], np.float32).reshape(2, 4)
                check(np.allclose(y, reference_affine(xp), atol=1e-5), f"padded binary {pad} values")
                affine_successes += 1

            # Binary errors: each a 400 with a clear message.
            def x_header(size, shape=(2, 4), datatype="FP32"):
                return {"inputs": [{"name": "x", "shape": list(shape), "datatype": datatype,
                                    "parameters": {"binary_data_size": size}}]}
            good = xb.astype("<f4").tobytes()
            binary_bad = [
                (binary_infer_body(x_header(32), good[:20]), "truncated"),
                (binary_infer_body(x_header(28), good[:28]), "needs 32 bytes"),
                (binary_infer_body(x_header(32, shape=(2 ** 62, 4)), good), "overflow"),
                (binary_infer_body(x_header(2 ** 64 - 1), good), "truncated"),
                (binary_infer_body(x_header(-1), good), "binary_data_size"),
                (binary_infer_body(x_header(32), good + b"tail"), "no input claims"),
                (binary_infer_body(x_header(12, shape=(2,), datatype="BYTES"), struct.pack("<I", 100) + b"abcdefgh"),
                 "claims 100 bytes"),
                (binary_infer_body(x_header(len(length_prefixed([b"ab", b"cde", b"f"])), shape=(2,), datatype="BYTES"),
                                   length_prefixed([b"ab", b"cde", b"f"])), "more than the 2 elements"),
            ]
            for (body, headers), words in binary_bad:
                status, _, rbody = client.raw_request("POST", "/v2/models/affine/infer", body, headers)
                out = json.loads(rbody)
                check(status == 400 and words in out["error"], f"binary error {words!r}: got {status} {out}")
            body, headers = binary_infer_body(x_header(32), good)
            headers["Inference-Header-Content-Length"] = str(len(body) + 1)
            status, _, rbody = client.raw_request("POST", "/v2/models/affine/infer", body, headers)
            check(status == 400 and "truncated" in json.loads(rbody)["error"], f"header length past body: {status} {rbody}")
            # A well-formed BYTES tensor decodes, then fails the model's datatype check.
            strings = length_prefixed([b"kiln", b"", b"\x00\xff"])
            body, headers = binary_infer_body(x_header(len(strings), shape=(3,), datatype="BYTES"), strings)
            status, _, rbody = client.raw_request("POST", "/v2/models/affine/infer", body, headers)
            check(status == 400 and "datatype" in json.loads(rbody)["error"], f"BYTES into FP32: {status} {rbody}")

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
            affine_successes += 1
            status, stats = client.request("GET", "/v2/models/affine/stats")
            check(status == 200 and stats["model_stats"][0]["inference_stats"]["success"]["count"] >= 2, f"stats {stats}")
            status, index = client.request("POST", "/v2/repository/index", {})
            check(status == 200 and {e["name"] for e in index} == {"affine", "tiny_cnn"}, f"index {index}")

            # Prometheus metrics: counters match the requests sent; the text parses strictly.
            with urllib.request.urlopen(f"http://{HOST}:{metrics_port}/metrics", timeout=30) as r:
                check(r.headers["Content-Type"].startswith("text/plain"), f"metrics content type {r.headers}")
                samples, types = parse_prometheus(r.read().decode())
            affine = {"model": "affine", "version": "3"}
            cnn = {"model": "tiny_cnn", "version": "1"}
            check(metric(samples, "nv_inference_request_success", **affine) == affine_successes,
                  f"affine successes {metric(samples, 'nv_inference_request_success', **affine)} != {affine_successes}")
            check(metric(samples, "nv_inference_request_success", **cnn) == 2, "tiny_cnn successes")
            check(metric(samples, "nv_inference_count", **cnn) == 3, "tiny_cnn inference count (batch 2 + batch 1)")
            check(1 <= metric(samples, "nv_inference_exec_count", **cnn) <= 2, "tiny_cnn executions")
            check(metric(samples, "nv_inference_pending_request_count", **affine) == 0, "pending after completion")
            for name in ("nv_inference_request_failure", "nv_inference_request_duration_us", "nv_inference_queue_duration_us",
                         "nv_inference_compute_input_duration_us", "nv_inference_compute_infer_duration_us",
                         "nv_inference_compute_output_duration_us"):
                check(metric(samples, name, **affine) >= 0 and types[name] == "counter", f"{name} missing or mistyped")
            check(metric(samples, "nv_inference_request_duration_us", **affine) > 0, "request duration is zero")
            check(types["kiln_inference_request_duration_seconds"] == "histogram", "histogram type")
            check(check_histogram(samples, "kiln_inference_request_duration_seconds", affine) == affine_successes,
                  "request latency histogram count")
            check(check_histogram(samples, "kiln_inference_queue_duration_seconds", cnn) == 2, "queue histogram count")
            status, _, _ = client.raw_request("GET", "/metrics")
            check(status == 404, "metrics are not on the inference port")

            # TensorFlow Serving REST API on the same port.
            status, out = client.request("GET", "/v1/models/affine")
            check(status == 200 and out["model_version_status"] == [
                {"version": "3", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}], f"tfs status {out}")
            check(client.request("GET", "/v1/models/affine/versions/3")[0] == 200, "tfs status of version 3")
            status, out = client.request("GET", "/v1/models/affine/versions/1")
            check(status == 404 and "error" in out, f"tfs status of a missing version: {status} {out}")
            status, out = client.request("GET", "/v1/models/affine/metadata")
            check(status == 200, f"tfs metadata {status} {out}")
            signature = out["metadata"]["signature_def"]["signature_def"]["serving_default"]
            check(signature["inputs"]["x"]["dtype"] == "DT_FLOAT" and
                  [d["size"] for d in signature["inputs"]["x"]["tensor_shape"]["dim"]] == ["2", "4"], f"tfs signature {signature}")
            check(out["model_spec"]["name"] == "affine" and "y" in signature["outputs"], f"tfs metadata {out}")
            status, out = client.request("GET", "/v1/models/tiny_cnn/metadata")
            check(status == 200 and [d["size"] for d in out["metadata"]["signature_def"]["signature_def"]["serving_default"]
                                     ["inputs"]["image"]["tensor_shape"]["dim"]] == ["-1", "3", "32", "32"], f"tiny_cnn tfs {out}")

            xt = rng.standard_normal((2, 4)).astype(np.float32)
            status, out = client.request("POST", "/v1/models/affine:predict", {"instances": xt.tolist()})
            check(status == 200 and np.allclose(np.array(out["predictions"], np.float32), reference_affine(xt), atol=1e-5),
                  f"tfs row predict: {status} {out}")
            status, out = client.request("POST", "/v1/models/affine:predict", {"instances": [{"x": row} for row in xt.tolist()]})
            check(status == 200 and np.allclose(np.array(out["predictions"], np.float32), reference_affine(xt), atol=1e-5),
                  f"tfs keyed row predict: {status} {out}")
            status, out = client.request("POST", "/v1/models/affine/versions/3:predict", {"inputs": {"x": xt.tolist()}})
            check(status == 200 and np.allclose(np.array(out["outputs"], np.float32), reference_affine(xt), atol=1e-5),
                  f"tfs columnar predict: {status} {out}")
            status, out = client.request("POST", "/v1/models/affine:predict", {"signature_name": "serving_default",
                                                                               "inputs": xt.tolist()})
            check(status == 200 and np.allclose(np.array(out["outputs"], np.float32), reference_affine(xt), atol=1e-5),
                  f"tfs unnamed columnar predict: {status} {out}")
            images = rng.standard_normal((3, 3, 32, 32)).astype(np.float32)
            status, out = client.request("POST", "/v1/models/tiny_cnn:predict", {"instances": images.tolist()})
            check(status == 200, f"tiny_cnn tfs predict: {status} {str(out)[:200]}")
            predictions = np.array(out["predictions"], np.float32)
            check(predictions.shape == (3, 10) and np.allclose(predictions.sum(axis=1), 1.0, atol=1e-4), f"tfs probs {predictions}")
            status, single = client.request("POST", "/v2/models/tiny_cnn/infer", {
                "inputs": [{"name": "image", "shape": [1, 3, 32, 32], "datatype": "FP32", "data": images[2].reshape(-1).tolist()}]})
            check(np.allclose(np.array(single["outputs"][0]["data"]), predictions[2], atol=1e-5), "tfs row 2 differs from KServe")

            tfs_bad = [
                ("POST", "/v1/models/nope:predict", {"instances": [[1.0]]}, 404, "unknown model"),
                ("POST", "/v1/models/affine:predict", {"instances": [[1.0, 2.0, 3.0, 4.0], [1.0]]}, 400, "ragged"),
                ("POST", "/v1/models/affine:predict", {"instances": xt.tolist(), "inputs": xt.tolist()}, 400, "exactly one"),
                ("POST", "/v1/models/affine:predict", {"inputs": {"z": xt.tolist()}}, 400, "not an input"),
                ("POST", "/v1/models/affine:predict", {"instances": [{"z": [1.0] * 4}]}, 400, "no value for input"),
                ("POST", "/v1/models/affine:predict", {"instances": [[1.0, 2.0, 3.0, 4.0]]}, 400, "shape"),
                ("POST", "/v1/models/affine:predict", {"instances": [["a"] * 4] * 2}, 400, "not a number"),
                ("POST", "/v1/models/affine:predict", {"signature_name": "other", "instances": xt.tolist()}, 400, "signature"),
                ("POST", "/v1/models/affine/versions/3:predict/extra", {"instances": xt.tolist()}, 404, "predict"),
                ("GET", "/v1/models/affine:predict", None, 405, "method"),
                ("GET", "/v1/other", None, 404, "/v1/models"),
            ]
            for method, path, body, code, words in tfs_bad:
                status, out = client.request(method, path, body)
                check(status == code and words in out["error"], f"tfs {method} {path}: got {status} {out}")
            status, out = client.request("POST", "/v1/models/affine:predict", raw=b"{oops")
            check(status == 400 and "malformed" in out["error"], f"tfs malformed: {status} {out}")
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
