"""kiln serve under hostile or changing conditions, over real sockets:
- slow-loris: connections that send part of a header (or of a body) and stall do not delay other
  clients, and the server closes them after --http-timeout;
- headers over the size limit are refused;
- unload / reload of a model under concurrent gRPC and HTTP load: every request either succeeds
  with the right values or is refused with a clear NOT_FOUND / UNAVAILABLE naming the model;
  none hangs, fails otherwise or is lost.

usage: serve_robustness_test.py KILN_BINARY SOURCE_DIR PROTOC GRPC_PYTHON_PLUGIN
"""
import json
import os
import socket
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

import grpc
import numpy as np

from serve_test_util import HOST, KilnServer, check, generate_stubs, make_repository, reference_affine

HTTP_TIMEOUT_SECONDS = 2
STALLED_CONNECTIONS = 8
RELOAD_ROUNDS = 6
CLIENT_THREADS = 4


def http_infer(port, x):
    body = json.dumps({"inputs": [{"name": "x", "datatype": "FP32", "shape": [2, 4], "data": x.flatten().tolist()}]}).encode()
    request = urllib.request.Request(f"http://{HOST}:{port}/v2/models/affine/infer", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def check_slow_loris(server):
    partial_header = b"POST /v2/models/affine/infer HTTP/1.1\r\nHost: kiln\r\nContent-Len"
    partial_body = b"POST /v2/models/affine/infer HTTP/1.1\r\nHost: kiln\r\nContent-Length: 1000\r\n\r\n{\"inputs\": ["
    stalled = []
    for i in range(STALLED_CONNECTIONS):
        s = socket.create_connection((HOST, server.http_port))
        s.sendall(partial_header if i % 2 == 0 else partial_body)
        stalled.append(s)
    started = time.monotonic()
    rng = np.random.default_rng(3)
    slowest = 0.0
    for _ in range(20):
        x = rng.standard_normal((2, 4)).astype(np.float32)
        t0 = time.monotonic()
        status, out = http_infer(server.http_port, x)
        slowest = max(slowest, time.monotonic() - t0)
        check(status == 200, f"infer beside stalled connections: {status} {out}")
        check(np.allclose(np.array(out["outputs"][0]["data"], np.float32).reshape(2, 4), reference_affine(x), rtol=1e-6),
              "values beside stalled connections")
    check(slowest < 1.0, f"a request took {slowest:.2f} s while {STALLED_CONNECTIONS} connections stalled")
    check(time.monotonic() - started < HTTP_TIMEOUT_SECONDS, "the requests themselves outlasted the idle timeout")
    # The stalled connections are closed once they have been idle for --http-timeout.
    for s in stalled:
        s.settimeout(HTTP_TIMEOUT_SECONDS + 5)
        try:
            while s.recv(4096):
                pass
        except socket.timeout:
            raise AssertionError(f"a stalled connection was still open {time.monotonic() - started:.1f} s later")
        except ConnectionResetError:
            pass
        s.close()
    elapsed = time.monotonic() - started
    check(elapsed >= HTTP_TIMEOUT_SECONDS - 0.5, f"stalled connections closed after {elapsed:.1f} s, before the timeout")


def check_header_limit(server):
    """Headers beyond the limit (64 KiB) are refused; the server goes on serving."""
    with socket.create_connection((HOST, server.http_port), timeout=10) as s:
        s.sendall(b"GET /v2/health/live HTTP/1.1\r\nHost: kiln\r\nX-Filler: " + b"a" * (128 << 10) + b"\r\n\r\n")
        reply = b""
        try:
            while chunk := s.recv(4096):
                reply += chunk
        except ConnectionResetError:
            pass
    check(reply.startswith(b"HTTP/1.1 400 "), f"a 128 KiB header got {reply[:80]!r}, not 400")
    status, out = http_infer(server.http_port, np.ones((2, 4), np.float32))
    check(status == 200, f"infer after an oversize header: {status} {out}")


def check_reload_under_load(pb, pb_grpc, server):
    auth = []
    outcomes = {"ok": 0, "refused": 0}
    failures = []
    lock = threading.Lock()
    stop = threading.Event()

    def record(kind, detail=None):
        with lock:
            if kind == "bad":
                failures.append(detail)
            else:
                outcomes[kind] += 1

    def grpc_client(seed):
        rng = np.random.default_rng(seed)
        with grpc.insecure_channel(f"{HOST}:{server.grpc_port}") as channel:
            stub = pb_grpc.GRPCInferenceServiceStub(channel)
            while not stop.is_set():
                x = rng.standard_normal((2, 4)).astype(np.float32)
                request = pb.ModelInferRequest(model_name="affine")
                request.inputs.add(name="x", datatype="FP32", shape=[2, 4])
                request.raw_input_contents.append(x.tobytes())
                try:
                    response = stub.ModelInfer(request, timeout=10)
                    y = np.frombuffer(response.raw_output_contents[0], np.float32).reshape(2, 4)
                    record("ok") if np.allclose(y, reference_affine(x), rtol=1e-6) else record("bad", "wrong values")
                except grpc.RpcError as e:
                    clear = e.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.UNAVAILABLE) and "affine" in e.details()
                    record("refused") if clear else record("bad", f"gRPC {e.code()}: {e.details()}")

    def http_client():
        rng = np.random.default_rng(99)
        while not stop.is_set():
            x = rng.standard_normal((2, 4)).astype(np.float32)
            try:
                status, out = http_infer(server.http_port, x)
            except (urllib.error.URLError, ConnectionError) as e:
                record("bad", f"HTTP connection error: {e}")
                continue
            if status == 200:
                y = np.array(out["outputs"][0]["data"], np.float32).reshape(2, 4)
                record("ok") if np.allclose(y, reference_affine(x), rtol=1e-6) else record("bad", "wrong values")
            elif status in (404, 503) and "affine" in out.get("error", ""):
                record("refused")
            else:
                record("bad", f"HTTP {status}: {out}")

    with grpc.insecure_channel(f"{HOST}:{server.grpc_port}") as channel:
        stub = pb_grpc.GRPCInferenceServiceStub(channel)
        stub.RepositoryModelLoad(pb.RepositoryModelLoadRequest(model_name="affine"), metadata=auth)
        threads = [threading.Thread(target=grpc_client, args=(i,)) for i in range(CLIENT_THREADS)]
        threads.append(threading.Thread(target=http_client))
        for t in threads:
            t.start()
        try:
            for _ in range(RELOAD_ROUNDS):
                time.sleep(0.3)
                stub.RepositoryModelUnload(pb.RepositoryModelUnloadRequest(model_name="affine"), metadata=auth)
                time.sleep(0.1)
                stub.RepositoryModelLoad(pb.RepositoryModelLoadRequest(model_name="affine"), metadata=auth)
                # Reloading over a loaded model swaps versions while requests are in flight.
                stub.RepositoryModelLoad(pb.RepositoryModelLoadRequest(model_name="affine"), metadata=auth)
            time.sleep(0.3)
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=30)
        check(not any(t.is_alive() for t in threads), "a client thread hung")
    check(not failures, f"{len(failures)} requests neither succeeded nor were clearly refused, e.g. {failures[:3]}")
    check(outcomes["ok"] > 0 and outcomes["refused"] > 0, f"the load did not overlap the reloads: {outcomes}")
    print(f"reload under load: {outcomes['ok']} succeeded, {outcomes['refused']} refused while unloaded")


def main():
    kiln, source_dir, protoc, plugin = sys.argv[1:5]
    with tempfile.TemporaryDirectory() as directory:
        generate_stubs(source_dir, protoc, plugin, directory)
        import grpc_service_pb2 as pb
        import grpc_service_pb2_grpc as pb_grpc
        root = os.path.join(directory, "models")
        make_repository(root)
        server = KilnServer(kiln, ["--model-repository", root, "--model-control-mode", "explicit",
                                   "--http-timeout", str(HTTP_TIMEOUT_SECONDS)])
        try:
            check_reload_under_load(pb, pb_grpc, server)
            check_slow_loris(server)
            check_header_limit(server)
            check(server.alive(), "kiln serve died")
        finally:
            code, log = server.stop()
        check(code == 0, f"kiln serve exit code {code}; log:\n{log}")
    print("serve robustness: all checks passed")


if __name__ == "__main__":
    main()
