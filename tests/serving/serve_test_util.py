"""Shared by the kiln serve tests that talk gRPC: free ports, the test model repository, a kiln
serve process that is ready before the test starts, the Python gRPC stubs generated at test time
from kiln's own .proto, and a self-signed certificate made with openssl at test time."""
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import numpy as np
import onnx
from onnx import TensorProto, helper

HOST = "127.0.0.1"
# Generous: start-up loads every model (warm-ups included) and CI runs the suite in parallel on
# 2 cores under the sanitizers, where one start once took over 60 s; only a failure waits it out.
STARTUP_SECONDS = 180
AFFINE_W = np.array([1.5, -2.0, 0.5, 3.0], np.float32)
AFFINE_B = np.array([0.25, 1.0, -1.0, 2.0], np.float32)


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def reference_affine(x):
    return x * AFFINE_W + AFFINE_B


def save_model(root, name, version, nodes, inputs, outputs, initializers=(), config=None):
    directory = os.path.join(root, name, str(version))
    os.makedirs(directory)
    graph = helper.make_graph(nodes, name, inputs, outputs, list(initializers))
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), os.path.join(directory, "model.onnx"))
    if config:
        with open(os.path.join(root, name, "config.pbtxt"), "w") as f:
            f.write(config)


def make_repository(root):
    """affine: y = x * w + b on FP32 [2, 4] (config auto-completed). add_int: INT32 c = a + b on
    [3]. scale: y = 2x with a batch dimension, a 1 s queue delay and a queue of two, so that
    tests can make requests wait (deadlines) and overflow the queue (RESOURCE_EXHAUSTED)."""
    save_model(root, "affine", 3,
               [helper.make_node("Mul", ["x", "w"], ["t"]), helper.make_node("Add", ["t", "b"], ["y"])],
               [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])],
               [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4])],
               [helper.make_tensor("w", TensorProto.FLOAT, [4], AFFINE_W.tolist()),
                helper.make_tensor("b", TensorProto.FLOAT, [4], AFFINE_B.tolist())])
    save_model(root, "add_int", 1, [helper.make_node("Add", ["a", "b"], ["c"])],
               [helper.make_tensor_value_info("a", TensorProto.INT32, [3]),
                helper.make_tensor_value_info("b", TensorProto.INT32, [3])],
               [helper.make_tensor_value_info("c", TensorProto.INT32, [3])])
    save_model(root, "scale", 1, [helper.make_node("Mul", ["x", "two"], ["y"])],
               [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
               [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])],
               [helper.make_tensor("two", TensorProto.FLOAT, [1], [2.0])],
               config='name: "scale"\nmax_batch_size: 8\n'
                      'input [ { name: "x" data_type: TYPE_FP32 dims: [ 4 ] } ]\n'
                      'output [ { name: "y" data_type: TYPE_FP32 dims: [ 4 ] } ]\n'
                      'dynamic_batching { preferred_batch_size: [ 8 ] max_queue_delay_microseconds: 1000000\n'
                      '  default_queue_policy { max_queue_size: 2 } }\n'
                      'instance_group [ { count: 1 kind: KIND_CPU } ]\n')


def generate_stubs(source_dir, protoc, grpc_python_plugin, out_dir):
    """Python messages and stubs from kiln's .proto (and the model configuration it imports)."""
    subprocess.run([protoc, f"--plugin=protoc-gen-grpc_python={grpc_python_plugin}",
                    "-I", os.path.join(source_dir, "apps", "proto"), "-I", os.path.join(source_dir, "src"),
                    f"--python_out={out_dir}", f"--grpc_python_out={out_dir}",
                    "grpc_service.proto", "serving/model_config.proto"], check=True)
    sys.path.insert(0, out_dir)


def make_certificate(directory):
    """A self-signed certificate for 127.0.0.1 / localhost; returns (cert_path, key_path)."""
    cert, key = os.path.join(directory, "server.crt"), os.path.join(directory, "server.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", key, "-out", cert],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


def https_ready_with(cert):
    """A KilnServer ready check for a TLS server whose certificate is `cert`: HTTPS live answers."""
    context = ssl.create_default_context(cafile=cert)

    def ready(server):
        try:
            with urllib.request.urlopen(f"https://{HOST}:{server.http_port}/v2/health/live", timeout=5, context=context) as r:
                return r.status == 200
        except (urllib.error.URLError, ConnectionError, ssl.SSLError):
            return False
    return ready


class KilnServer:
    """kiln serve on free ports; ready(server) decides when it is up (default: HTTP live)."""

    def __init__(self, kiln, args, ready=None, env=None):
        self.http_port, self.grpc_port, self.metrics_port = free_port(), free_port(), free_port()
        self.proc = subprocess.Popen([kiln, "serve", "--http-port", str(self.http_port), "--grpc-port", str(self.grpc_port),
                                      "--metrics-port", str(self.metrics_port)] + args,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
        # Drained all along: a server that logs more than a pipe holds (engine build progress)
        # would otherwise block on its next write.
        self._log = []
        self._reader = threading.Thread(target=lambda: self._log.extend(iter(self.proc.stdout.readline, b"")), daemon=True)
        self._reader.start()
        ready = ready or KilnServer.http_ready
        deadline = time.time() + STARTUP_SECONDS
        while not ready(self):
            if self.proc.poll() is not None:
                self._reader.join(timeout=10)
                raise AssertionError("kiln serve exited during start-up:\n" + self.log_so_far())
            if time.time() >= deadline:
                # Not left running behind the failure (it would hold ports and the GPU).
                code, log = self.stop()
                raise AssertionError(f"kiln serve did not become ready in {STARTUP_SECONDS} s (exit code {code}); log:\n{log}")
            time.sleep(0.2)

    def answers_ok(self, path):
        """True when GET `path` on the HTTP port returns 200."""
        try:
            with urllib.request.urlopen(f"http://{HOST}:{self.http_port}{path}", timeout=5) as r:
                return r.status == 200
        except (urllib.error.URLError, ConnectionError):
            return False

    def http_ready(self):
        return self.answers_ok("/v2/health/live")

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        """SIGTERM, then the exit code and the log."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self._reader.join(timeout=10)
        return code, b"".join(self._log).decode(errors="replace")

    def log_so_far(self):
        return b"".join(self._log).decode(errors="replace")


def http_request(port, method, path, body=None, timeout=30):
    """(status, decoded JSON body or None); HTTP errors are returned, not raised."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://{HOST}:{port}{path}", data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            text = r.read()
            return r.status, json.loads(text) if text else None
    except urllib.error.HTTPError as e:
        text = e.read()
        return e.code, json.loads(text) if text else None


def wait_until(condition, what, seconds):
    """Polls condition() until true; fails naming `what` after `seconds`."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what}: not within {seconds} s")
        time.sleep(0.1)
