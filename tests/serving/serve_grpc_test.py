"""kiln serve over gRPC with a python3-grpcio client whose stubs are generated at test time from
kiln's .proto: every RPC of inference.GRPCInferenceService (typed and raw contents, the
bidirectional stream), the repository API behind an API key, bad requests and their status
codes while the server keeps serving, requests whose client goes away dropped before they run, and
TLS on both transports.

usage: serve_grpc_test.py KILN_BINARY SOURCE_DIR PROTOC GRPC_PYTHON_PLUGIN
"""
import concurrent.futures
import http.client
import json
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import grpc
import numpy as np

from serve_test_util import (HOST, KilnServer, check, free_port, generate_stubs, https_ready_with, make_certificate,
                             make_repository, reference_affine)

API_KEY = "test-key-0123456789"
MAX_MESSAGE_MIB = 1
CONNECTION_AGE_SECONDS = 1


def expect_code(call, code, words, what):
    """code: one status code or a tuple of acceptable ones."""
    codes = code if isinstance(code, tuple) else (code,)
    try:
        call()
    except grpc.RpcError as e:
        check(e.code() in codes, f"{what}: expected {code}, got {e.code()}: {e.details()}")
        check(words in e.details(), f"{what}: {e.details()!r} does not mention {words!r}")
        return
    raise AssertionError(f"{what}: expected {code}, the call succeeded")


def raw_affine_request(pb, x, model="affine", version=""):
    request = pb.ModelInferRequest(model_name=model, model_version=version, id="raw-1")
    request.inputs.add(name="x", datatype="FP32", shape=list(x.shape))
    request.raw_input_contents.append(x.astype("<f4").tobytes())
    return request


def output_array(response, index, dtype):
    out = response.outputs[index]
    return np.frombuffer(response.raw_output_contents[index], dtype=dtype).reshape(list(out.shape))


def check_rpcs(pb, stub, auth, rng):
    check(stub.ServerLive(pb.ServerLiveRequest()).live, "ServerLive")
    meta = stub.ServerMetadata(pb.ServerMetadataRequest())
    check(meta.name == "kiln" and "model_repository" in meta.extensions, f"ServerMetadata: {meta}")

    # Explicit model control: nothing is loaded until the repository API says so.
    check(not stub.ModelReady(pb.ModelReadyRequest(name="affine")).ready, "affine loaded before RepositoryModelLoad")
    for name in ("affine", "add_int", "scale"):
        stub.RepositoryModelLoad(pb.RepositoryModelLoadRequest(model_name=name), metadata=auth)
    check(stub.ServerReady(pb.ServerReadyRequest()).ready, "ServerReady")
    check(stub.ModelReady(pb.ModelReadyRequest(name="affine", version="3")).ready, "ModelReady affine/3")
    check(not stub.ModelReady(pb.ModelReadyRequest(name="affine", version="1")).ready, "affine/1 is not loaded")
    index = stub.RepositoryIndex(pb.RepositoryIndexRequest(ready=True), metadata=auth)
    check(sorted((m.name, m.version, m.state) for m in index.models) ==
          [("add_int", "1", "READY"), ("affine", "3", "READY"), ("scale", "1", "READY")], f"RepositoryIndex: {index}")

    meta = stub.ModelMetadata(pb.ModelMetadataRequest(name="scale"))
    check(meta.name == "scale" and list(meta.versions) == ["1"], f"ModelMetadata: {meta}")
    check((meta.inputs[0].name, meta.inputs[0].datatype, list(meta.inputs[0].shape)) == ("x", "FP32", [-1, 4]),
          f"ModelMetadata inputs: {meta.inputs}")
    config = stub.ModelConfig(pb.ModelConfigRequest(name="scale")).config
    check(config.name == "scale" and config.max_batch_size == 8 and
          config.dynamic_batching.default_queue_policy.max_queue_size == 2, f"ModelConfig: {config}")

    # Raw contents: FP32 bytes in, raw bytes out.
    x = rng.standard_normal((2, 4)).astype(np.float32)
    response = stub.ModelInfer(raw_affine_request(pb, x))
    check(response.model_name == "affine" and response.model_version == "3" and response.id == "raw-1", f"raw: {response}")
    check(response.outputs[0].name == "y" and response.outputs[0].datatype == "FP32", f"raw outputs: {response.outputs}")
    check(np.allclose(output_array(response, 0, "<f4"), reference_affine(x), rtol=1e-6), "raw affine values")

    # Typed contents: fp32_contents, and int_contents for INT32.
    request = pb.ModelInferRequest(model_name="affine")
    request.inputs.add(name="x", datatype="FP32", shape=[2, 4]).contents.fp32_contents.extend(x.flatten().tolist())
    request.outputs.add(name="y")
    response = stub.ModelInfer(request)
    check(np.allclose(output_array(response, 0, "<f4"), reference_affine(x), rtol=1e-6), "typed affine values")
    a, b = rng.integers(-1000, 1000, 3).astype(np.int32), rng.integers(-1000, 1000, 3).astype(np.int32)
    request = pb.ModelInferRequest(model_name="add_int")
    request.inputs.add(name="a", datatype="INT32", shape=[3]).contents.int_contents.extend(a.tolist())
    request.inputs.add(name="b", datatype="INT32", shape=[3]).contents.int_contents.extend(b.tolist())
    response = stub.ModelInfer(request)
    check(np.array_equal(output_array(response, 0, "<i4"), a + b), "typed INT32 add")

    # The stream: requests in, responses (or in-band errors) out; a bad request does not end it.
    xs = [rng.standard_normal((2, 4)).astype(np.float32) for _ in range(6)]
    stream_requests = [raw_affine_request(pb, v) for v in xs]
    for i, r in enumerate(stream_requests):
        r.id = f"stream-{i}"
    bad = pb.ModelInferRequest(model_name="affine", id="stream-bad")
    bad.inputs.add(name="x", datatype="FP32", shape=[2, 4]).contents.fp32_contents.extend([1.0] * 3)
    stream_requests.insert(3, bad)
    replies = {}
    for reply in stub.ModelStreamInfer(iter(stream_requests)):
        replies[reply.infer_response.id] = reply
    check(len(replies) == len(stream_requests), f"stream: {len(replies)} replies for {len(stream_requests)} requests")
    check("needs 8 elements" in replies["stream-bad"].error_message, f"stream error: {replies['stream-bad']}")
    for i, v in enumerate(xs):
        reply = replies[f"stream-{i}"]
        check(reply.error_message == "", f"stream-{i}: {reply.error_message}")
        check(np.allclose(output_array(reply.infer_response, 0, "<f4"), reference_affine(v), rtol=1e-6), f"stream-{i} values")

    stats = stub.ModelStatistics(pb.ModelStatisticsRequest(name="affine", version="3"))
    check(len(stats.model_stats) == 1, f"ModelStatistics: {stats}")
    s = stats.model_stats[0]
    check(s.name == "affine" and s.version == "3" and s.inference_stats.success.count == 8 and
          s.inference_stats.success.ns > 0 and s.execution_count >= 1, f"affine statistics: {s}")
    everything = stub.ModelStatistics(pb.ModelStatisticsRequest())
    check({m.name for m in everything.model_stats} == {"affine", "add_int", "scale"}, "statistics of every model")
    return s.inference_stats.success.count


def check_metrics(metrics_port, successes):
    """gRPC requests show in the Prometheus metrics like HTTP ones: the front end's latency
    histogram counts every successful affine request."""
    with urllib.request.urlopen(f"http://{HOST}:{metrics_port}/metrics", timeout=10) as r:
        text = r.read().decode()
    wanted = 'kiln_inference_request_duration_seconds_count{model="affine",version="3"} '
    lines = [line for line in text.splitlines() if line.startswith(wanted)]
    check(len(lines) == 1 and float(lines[0].split()[-1]) == successes, f"request histogram for gRPC: {lines}")


def check_bad_requests(pb, stub, rng):
    x = rng.standard_normal((2, 4)).astype(np.float32)
    code = grpc.StatusCode
    expect_code(lambda: stub.ModelInfer(raw_affine_request(pb, x, model="nope")), code.NOT_FOUND, "unknown model", "unknown model")
    expect_code(lambda: stub.ModelInfer(raw_affine_request(pb, x, version="7")), code.NOT_FOUND, "no loaded version 7",
                "unknown version")
    expect_code(lambda: stub.ModelMetadata(pb.ModelMetadataRequest(name="nope")), code.NOT_FOUND, "unknown model", "metadata")
    expect_code(lambda: stub.ModelConfig(pb.ModelConfigRequest(name="affine", version="x1")), code.INVALID_ARGUMENT, "x1",
                "bad version text")
    wrong_shape = raw_affine_request(pb, rng.standard_normal((4, 2)).astype(np.float32))
    expect_code(lambda: stub.ModelInfer(wrong_shape), code.INVALID_ARGUMENT, "does not match", "wrong shape")
    wrong_dtype = pb.ModelInferRequest(model_name="affine")
    wrong_dtype.inputs.add(name="x", datatype="FP64", shape=[2, 4])
    wrong_dtype.raw_input_contents.append(x.astype("<f8").tobytes())
    expect_code(lambda: stub.ModelInfer(wrong_dtype), code.INVALID_ARGUMENT, "datatype FP64", "wrong dtype")
    truncated = raw_affine_request(pb, x)
    truncated.raw_input_contents[0] = truncated.raw_input_contents[0][:-3]
    expect_code(lambda: stub.ModelInfer(truncated), code.INVALID_ARGUMENT, "truncated", "truncated raw contents")
    unknown_type = pb.ModelInferRequest(model_name="affine")
    unknown_type.inputs.add(name="x", datatype="FLOAT", shape=[2, 4])
    expect_code(lambda: stub.ModelInfer(unknown_type), code.INVALID_ARGUMENT, "unknown datatype", "unknown datatype")
    # Element counts past int64 (the fuzzer found the zero-dim case: 2^32 * 2^32 before the 0).
    for dims, words in (([2 ** 32, 2 ** 32, 2], "overflows"), ([2 ** 32, 2 ** 32, 0], "does not match")):
        huge = pb.ModelInferRequest(model_name="affine")
        huge.inputs.add(name="x", datatype="FP32", shape=dims)
        expect_code(lambda: stub.ModelInfer(huge), code.INVALID_ARGUMENT, words, f"shape {dims}")
    extra_raw = raw_affine_request(pb, x)
    extra_raw.raw_input_contents.append(b"1234")
    expect_code(lambda: stub.ModelInfer(extra_raw), code.INVALID_ARGUMENT, "raw_input_contents has 2", "raw count")
    negative = raw_affine_request(pb, x)
    negative.parameters["priority"].int64_param = -1
    expect_code(lambda: stub.ModelInfer(negative), code.INVALID_ARGUMENT, "priority", "negative priority")
    oversize = pb.ModelInferRequest(model_name="affine")
    oversize.inputs.add(name="x", datatype="FP32", shape=[2, 4])
    oversize.raw_input_contents.append(b"\0" * ((MAX_MESSAGE_MIB << 20) + 1024))
    expect_code(lambda: stub.ModelInfer(oversize), code.RESOURCE_EXHAUSTED, "", "oversize message")

    # scale waits up to 1 s to fill a batch: a 50 ms deadline expires first...
    y = np.ones((1, 4), np.float32)
    scale_request = raw_affine_request(pb, y, model="scale")

    def scale_stats():
        return stub.ModelStatistics(pb.ModelStatisticsRequest(name="scale")).model_stats[0].inference_stats

    before = scale_stats()
    expect_code(lambda: stub.ModelInfer(scale_request, timeout=0.05), code.DEADLINE_EXCEEDED, "", "deadline")
    time.sleep(1.2)
    # ...and the scheduler drops the request at its deadline instead of running it for nobody.
    after = scale_stats()
    check(after.success.count == before.success.count and after.fail.count == before.fail.count + 1,
          f"a request past its client deadline was run: success {before.success.count}->{after.success.count}, "
          f"fail {before.fail.count}->{after.fail.count}")
    # A stream's deadline bounds the requests sent on it the same way.
    expect_code(lambda: list(stub.ModelStreamInfer(iter([scale_request]), timeout=0.05)), code.DEADLINE_EXCEEDED, "",
                "stream deadline")
    time.sleep(1.2)
    streamed = scale_stats()
    check(streamed.success.count == after.success.count and streamed.fail.count == after.fail.count + 1,
          f"a streamed request past the stream's deadline was run: success {after.success.count}->"
          f"{streamed.success.count}, fail {after.fail.count}->{streamed.fail.count}")
    # ...and its queue holds two requests: more at once are turned away, the two succeed.
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        futures = [pool.submit(stub.ModelInfer, scale_request, timeout=10) for _ in range(6)]
        outcomes = []
        for f in futures:
            try:
                outcomes.append(np.array_equal(output_array(f.result(), 0, "<f4"), 2 * y))
            except grpc.RpcError as e:
                check(e.code() == code.RESOURCE_EXHAUSTED and "maximum queue size 2" in e.details(),
                      f"queue overflow: {e.code()} {e.details()}")
                outcomes.append("rejected")
    check(outcomes.count(True) >= 2 and outcomes.count("rejected") >= 1 and False not in outcomes,
          f"queue overflow outcomes: {outcomes}")

    # After all of that the server still answers correctly.
    response = stub.ModelInfer(raw_affine_request(pb, x))
    check(np.allclose(output_array(response, 0, "<f4"), reference_affine(x), rtol=1e-6), "serving after bad requests")


def check_client_gone(pb, stub, server):
    """A request whose client goes away while it waits in scale's 1 s batching queue (a
    cancelled gRPC call, a closed HTTP connection) is dropped, not run; the server keeps serving."""
    scale_request = raw_affine_request(pb, np.ones((1, 4), np.float32), model="scale")

    def scale_stats():
        return stub.ModelStatistics(pb.ModelStatisticsRequest(name="scale")).model_stats[0].inference_stats

    def expect_dropped(before, what):
        time.sleep(1.3)  # past the queue delay: the batch would have run by now
        after = scale_stats()
        check(after.success.count == before.success.count and after.fail.count == before.fail.count + 1,
              f"{what}: success {before.success.count}->{after.success.count}, "
              f"fail {before.fail.count}->{after.fail.count} (expected the request dropped, not run)")

    before = scale_stats()
    future = stub.ModelInfer.future(scale_request)
    time.sleep(0.2)
    check(future.cancel(), "the gRPC call was still cancellable")
    expect_dropped(before, "cancelled gRPC call")

    before = scale_stats()
    body = json.dumps({"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 4], "data": [1, 2, 3, 4]}]}).encode()
    head = (f"POST /v2/models/scale/infer HTTP/1.1\r\nHost: kiln\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    with socket.create_connection((HOST, server.http_port), timeout=10) as s:
        s.sendall(head + body)
        time.sleep(0.2)  # queued by now; then the client goes away
    expect_dropped(before, "closed HTTP connection")
    # A client that stays gets its answer.
    check(np.array_equal(output_array(stub.ModelInfer(scale_request, timeout=10), 0, "<f4"), 2 * np.ones((1, 4))),
          "scale after dropped requests")


def check_api_key(pb, stub, server):
    code = grpc.StatusCode
    for metadata in (None, [("authorization", "Bearer wrong")], [("authorization", API_KEY)]):
        expect_code(lambda: stub.RepositoryIndex(pb.RepositoryIndexRequest(), metadata=metadata), code.UNAUTHENTICATED,
                    "API key", f"RepositoryIndex with {metadata}")
        expect_code(lambda: stub.RepositoryModelUnload(pb.RepositoryModelUnloadRequest(model_name="affine"), metadata=metadata),
                    code.UNAUTHENTICATED, "API key", f"unload with {metadata}")
    check(stub.ModelReady(pb.ModelReadyRequest(name="affine")).ready, "a refused unload left the model loaded")
    base = f"http://{HOST}:{server.http_port}/v2/repository/index"
    for headers, expected in (({}, 401), ({"Authorization": "Bearer wrong"}, 401), ({"Authorization": f"Bearer {API_KEY}"}, 200)):
        request = urllib.request.Request(base, data=b"{}", method="POST", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as r:
                status = r.status
        except urllib.error.HTTPError as e:
            status = e.code
        check(status == expected, f"HTTP repository index with {headers}: {status}, expected {expected}")


def client_ports_connected_to(port):
    """The local ports of established TCP connections to `port` (from /proc/net/tcp and tcp6: gRPC's
    sockets are IPv6 with IPv4-mapped addresses)."""
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            next(f)
            for line in f:
                fields = line.split()
                local, remote, state = fields[1], fields[2], fields[3]
                if state == "01" and int(remote.rsplit(":", 1)[1], 16) == port:  # 01: ESTABLISHED
                    ports.add(int(local.rsplit(":", 1)[1], 16))
    return ports


def check_connection_age(pb, stub, port, x):
    """With --grpc-max-connection-age, the server closes the client's connection (GOAWAY) and the
    channel reconnects: calls keep succeeding, over more than one connection."""
    seen = set()
    deadline = time.time() + 3 * CONNECTION_AGE_SECONDS + 1
    calls = 0
    while time.time() < deadline:
        response = stub.ModelInfer(raw_affine_request(pb, x), timeout=10)
        check(np.allclose(output_array(response, 0, "<f4"), reference_affine(x)), "infer across connection ages")
        seen |= client_ports_connected_to(port)
        calls += 1
        time.sleep(0.05)
    check(len(seen) >= 2, f"{calls} calls over {3 * CONNECTION_AGE_SECONDS + 1} s used one connection: {seen}")


def check_bad_flags(kiln, root, cert, busy_port, busy_http_port):
    """Bad security flags or a taken gRPC or HTTP port stop kiln serve at start with exit code 2
    and a message naming the problem. The HTTP case is another kiln serve's port: its listening
    sockets are SO_REUSEPORT, and a second server must still be refused, not join them."""
    cases = [(["--tls-cert", cert], "--tls-key"),
             (["--tls-cert", cert, "--tls-key", os.path.join(root, "missing.key")], "missing.key"),
             (["--api-key-file", os.path.join(root, "missing-key-file")], "--api-key-file"),
             (["--grpc-port", str(busy_port)], "cannot listen for gRPC"),
             (["--http-port", str(busy_http_port), "--grpc-port", str(free_port())], "is the port in use")]
    for flags, words in cases:
        http_port = [] if "--http-port" in flags else ["--http-port", str(free_port())]
        result = subprocess.run([kiln, "serve", "--model-repository", root, "--metrics-port", "0"] + http_port + flags,
                                capture_output=True, text=True, timeout=60)
        check(result.returncode == 2 and words in result.stderr, f"kiln serve {flags}: exit {result.returncode}, {result.stderr!r}")


def check_tls(pb, pb_grpc, kiln, root, directory):
    cert, key = make_certificate(directory)
    with open(cert, "rb") as f:
        root_cert = f.read()
    context = ssl.create_default_context(cafile=cert)
    https_ready = https_ready_with(cert)

    env = dict(os.environ, KILN_API_KEY=API_KEY)
    server = KilnServer(kiln, ["--model-repository", root, "--tls-cert", cert, "--tls-key", key,
                               "--grpc-max-connection-age", str(CONNECTION_AGE_SECONDS), "--grpc-max-connection-age-grace", "1"],
                        ready=https_ready, env=env)
    try:
        with grpc.secure_channel(f"{HOST}:{server.grpc_port}", grpc.ssl_channel_credentials(root_certificates=root_cert)) as channel:
            stub = pb_grpc.GRPCInferenceServiceStub(channel)
            check(stub.ServerLive(pb.ServerLiveRequest(), timeout=10).live, "ServerLive over TLS")
            x = np.arange(8, dtype=np.float32).reshape(2, 4)
            response = stub.ModelInfer(raw_affine_request(pb, x), timeout=10)
            check(np.allclose(output_array(response, 0, "<f4"), reference_affine(x)), "infer over TLS")
            # The key from $KILN_API_KEY guards the repository API here.
            expect_code(lambda: stub.RepositoryIndex(pb.RepositoryIndexRequest(), timeout=10), grpc.StatusCode.UNAUTHENTICATED,
                        "API key", "RepositoryIndex without the environment's key")
            index = stub.RepositoryIndex(pb.RepositoryIndexRequest(), timeout=10, metadata=[("authorization", f"Bearer {API_KEY}")])
            check(any(m.name == "affine" for m in index.models), f"RepositoryIndex with the key: {index}")
            check_connection_age(pb, stub, server.grpc_port, x)
        with grpc.insecure_channel(f"{HOST}:{server.grpc_port}") as channel:
            expect_code(lambda: pb_grpc.GRPCInferenceServiceStub(channel).ServerLive(pb.ServerLiveRequest(), timeout=3),
                        (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED), "", "plaintext gRPC to a TLS port")
        with urllib.request.urlopen(f"https://{HOST}:{server.http_port}/v2/models/affine", timeout=10, context=context) as r:
            check(r.status == 200 and b'"affine"' in r.read(), "HTTPS model metadata")
        try:
            urllib.request.urlopen(f"http://{HOST}:{server.http_port}/v2/health/live", timeout=5)
            raise AssertionError("plain HTTP to the TLS port succeeded")
        except (urllib.error.URLError, ConnectionError, http.client.HTTPException):
            pass
        check(https_ready(server), "HTTPS still serves after a plaintext client")
        check_bad_flags(kiln, root, cert, server.grpc_port, server.http_port)
    finally:
        code, log = server.stop()
    check(code == 0, f"TLS server exit code {code}; log:\n{log}")


def main():
    kiln, source_dir, protoc, plugin = sys.argv[1:5]
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as directory:
        generate_stubs(source_dir, protoc, plugin, directory)
        import grpc_service_pb2 as pb
        import grpc_service_pb2_grpc as pb_grpc
        root = os.path.join(directory, "models")
        make_repository(root)
        key_file = os.path.join(directory, "api-key")
        with open(key_file, "w") as f:
            f.write(API_KEY + "\n")
        server = KilnServer(kiln, ["--model-repository", root, "--model-control-mode", "explicit", "--api-key-file", key_file,
                                   "--grpc-max-message-mib", str(MAX_MESSAGE_MIB), "--grpc-max-connection-age", "30"])
        try:
            with grpc.insecure_channel(f"{HOST}:{server.grpc_port}") as channel:
                stub = pb_grpc.GRPCInferenceServiceStub(channel)
                auth = [("authorization", f"Bearer {API_KEY}")]
                check_metrics(server.metrics_port, check_rpcs(pb, stub, auth, rng))
                check_bad_requests(pb, stub, rng)
                check_client_gone(pb, stub, server)
                check_api_key(pb, stub, server)
                stub.RepositoryModelUnload(pb.RepositoryModelUnloadRequest(model_name="add_int"), metadata=auth)
                check(not stub.ModelReady(pb.ModelReadyRequest(name="add_int")).ready, "add_int unloaded")
                check(server.alive(), "kiln serve died")
        finally:
            code, log = server.stop()
        check(code == 0, f"kiln serve exit code {code}; log:\n{log}")
        check_tls(pb, pb_grpc, kiln, root, directory)
    print("serve gRPC: all checks passed")


if __name__ == "__main__":
    main()
