"""Large HTTP request bodies through kiln serve: the HTTP loops read a large body in big reads
and set the socket's receive low-water mark to the rest of it (apps/kiln/http_body_tracker.h).
A wrong mark would hold back the bytes a request needs and stall it, so this sends large bodies
whole, in slow pieces with pauses (the tail last, alone), two pipelined in one write, as JSON,
and over several keep-alive requests, and checks every answer against numpy.

usage: serve_large_body_test.py KILN
"""
import http.client
import json
import os
import socket
import sys
import tempfile
import time

import numpy as np
from onnx import TensorProto, helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_test_util import HOST, KilnServer, check, save_model  # noqa: E402

ELEMENTS = 1 << 20  # 4 MiB of float32 per request: far above the tracker's coalescing threshold
TIMEOUT = 60


def make_repository(root):
    save_model(root, "wide", 1, [helper.make_node("Mul", ["x", "three"], ["y"])],
               [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, ELEMENTS])],
               [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, ELEMENTS])],
               [helper.make_tensor("three", TensorProto.FLOAT, [1], [3.0])])


def binary_request(x, request_id):
    header = json.dumps({"id": request_id,
                         "inputs": [{"name": "x", "datatype": "FP32", "shape": list(x.shape),
                                     "parameters": {"binary_data_size": x.nbytes}}],
                         "outputs": [{"name": "y", "parameters": {"binary_data": True}}]}).encode()
    body = header + x.tobytes()
    head = (f"POST /v2/models/wide/infer HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/octet-stream\r\n"
            f"Inference-Header-Content-Length: {len(header)}\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    return head + body


def check_binary_answer(response, x, request_id, what):
    data = response.read()
    check(response.status == 200, f"{what}: HTTP {response.status} {data[:300]!r}")
    json_length = int(response.getheader("Inference-Header-Content-Length"))
    reply = json.loads(data[:json_length])
    check(reply.get("id") == request_id, f"{what}: answer for {reply.get('id')}, not {request_id}")
    y = np.frombuffer(data[json_length:], np.float32).reshape(x.shape)
    check(np.array_equal(y, x * np.float32(3.0)), f"{what}: wrong values")


def read_response(sock):
    response = http.client.HTTPResponse(sock)
    response.begin()
    return response


def connect(port):
    sock = socket.create_connection((HOST, port), timeout=TIMEOUT)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def main():
    kiln = sys.argv[1]
    rng = np.random.default_rng(20261203)
    with tempfile.TemporaryDirectory() as root:
        make_repository(root)
        server = KilnServer(kiln, ["--model-repository", root, "--http-threads", "2"])
        try:
            port = server.http_port
            # Whole, three times on one keep-alive connection.
            sock = connect(port)
            for i in range(3):
                x = rng.standard_normal((1, ELEMENTS)).astype(np.float32)
                sock.sendall(binary_request(x, f"whole-{i}"))
                check_binary_answer(read_response(sock), x, f"whole-{i}", f"whole request {i}")

            # In pieces with pauses, the last 1000 bytes alone after the longest pause: each
            # piece must reach the server although less than the low-water mark of before is left.
            x = rng.standard_normal((1, ELEMENTS)).astype(np.float32)
            message = binary_request(x, "pieces")
            cuts = [0, 100, 300_000, 1_500_000, 3_000_000, len(message) - 1000, len(message)]
            start = time.monotonic()
            for a, b in zip(cuts, cuts[1:]):
                sock.sendall(message[a:b])
                time.sleep(0.3 if b == len(message) - 1000 else 0.05)
            check_binary_answer(read_response(sock), x, "pieces", "a body sent in pieces")
            check(time.monotonic() - start < 10, f"a body sent in pieces took {time.monotonic() - start:.1f} s: stalled")
            sock.close()

            # Two large requests pipelined in one write, answered in order.
            sock = connect(port)
            x1 = rng.standard_normal((1, ELEMENTS)).astype(np.float32)
            x2 = rng.standard_normal((1, ELEMENTS)).astype(np.float32)
            sock.sendall(binary_request(x1, "first") + binary_request(x2, "second"))
            check_binary_answer(read_response(sock), x1, "first", "pipelined request 1")
            check_binary_answer(read_response(sock), x2, "second", "pipelined request 2")
            sock.close()

            # A large JSON body (about 10 MB of text), and a small request right after it.
            x = rng.standard_normal((1, ELEMENTS)).astype(np.float32)
            connection = http.client.HTTPConnection(HOST, port, timeout=TIMEOUT)
            connection.request("POST", "/v2/models/wide/infer",
                               body=json.dumps({"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, ELEMENTS],
                                                            "data": x.ravel().tolist()}]}),
                               headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            reply = json.loads(response.read())
            check(response.status == 200, f"large JSON: HTTP {response.status} {str(reply)[:300]}")
            y = np.array(reply["outputs"][0]["data"], np.float32).reshape(x.shape)
            check(np.array_equal(y, x * np.float32(3.0)), "large JSON: wrong values")
            connection.request("GET", "/v2/models/wide/ready")
            response = connection.getresponse()
            response.read()
            check(response.status == 200, f"ready after a large body: HTTP {response.status}")
            connection.close()

            # A body shorter than its Content-Length is never answered as if whole; the server
            # keeps serving.
            sock = connect(port)
            truncated = binary_request(x, "truncated")
            sock.sendall(truncated[:len(truncated) // 2])
            sock.close()
            sock = connect(port)
            sock.sendall(binary_request(x, "after"))
            check_binary_answer(read_response(sock), x, "after", "a request after a truncated one")
            sock.close()
        finally:
            code, log = server.stop()
        check(code == 0, f"exit code {code}; log:\n{log}")
    print("ok: 4 MiB bodies whole, in pieces, pipelined, as JSON and after a truncated one")


if __name__ == "__main__":
    main()
