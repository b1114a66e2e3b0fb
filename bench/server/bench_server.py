#!/usr/bin/python3
"""kiln serve's throughput and the latency it adds, on this machine, with a tiny model.

Starts `kiln serve` on examples/tiny_cnn.onnx (batch 1 requests, FP32 [1,3,32,32]) and measures
requests/s and latency percentiles over gRPC (raw_input_contents, python3-grpcio) and HTTP
(KServe v2 binary tensor extension, keep-alive http.client) at a few client concurrencies. The
anchor is `kiln bench` on the same model file, batch 1, with as many threads as there are
clients, in the same run: throughput is reported as served / in-process at the same
concurrency, and the overhead columns (concurrency 1) are the served latency minus the
in-process latency at the same percentile.
The clients are Python and share the machine's cores with the server, so the numbers include
client-side encoding and are a floor on what the server itself can do.

usage: /usr/bin/python3 bench/server/bench_server.py --kiln build/apps/kiln [--duration 5] [--concurrency 1 8]
"""
import argparse
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import grpc
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "serving"))
from serve_test_util import HOST, KilnServer, check, generate_stubs  # noqa: E402

MODEL = "tiny_cnn"
SHAPE = [1, 3, 32, 32]


def make_repository(root):
    version = os.path.join(root, MODEL, "1")
    os.makedirs(version)
    shutil.copy(os.path.join(SOURCE_DIR, "examples", "tiny_cnn.onnx"), os.path.join(version, "model.onnx"))
    with open(os.path.join(root, MODEL, "config.pbtxt"), "w") as f:
        f.write(f'name: "{MODEL}"\nmax_batch_size: 8\n'
                'input [ { name: "image" data_type: TYPE_FP32 dims: [ 3, 32, 32 ] } ]\n'
                'dynamic_batching { max_queue_delay_microseconds: 100 }\n'
                'instance_group [ { count: 2 kind: KIND_CPU } ]\n')


def percentile(values, p):
    return float(np.percentile(np.array(values), p)) if values else float("nan")


def run_clients(make_call, concurrency, duration):
    """Each of `concurrency` threads calls its own call() in a loop; returns (requests/s, latencies ms)."""
    latencies, errors = [], []
    lock = threading.Lock()
    start_barrier = threading.Barrier(concurrency + 1)
    stop = threading.Event()

    def worker():
        call = make_call()
        call()  # warm the connection
        local = []
        start_barrier.wait()
        while not stop.is_set():
            t0 = time.perf_counter()
            try:
                call()
            except Exception as e:  # noqa: BLE001 - reported below, the run is then invalid
                errors.append(repr(e))
                break
            local.append((time.perf_counter() - t0) * 1000)
        with lock:
            latencies.extend(local)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    start_barrier.wait()
    began = time.perf_counter()
    time.sleep(duration)
    stop.set()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    check(not errors, f"client errors: {errors[:3]}")
    return len(latencies) / elapsed, latencies


def grpc_call_factory(pb, pb_grpc, port, image):
    def make_call():
        stub = pb_grpc.GRPCInferenceServiceStub(grpc.insecure_channel(f"{HOST}:{port}"))
        request = pb.ModelInferRequest(model_name=MODEL)
        request.inputs.add(name="image", datatype="FP32", shape=SHAPE)
        request.raw_input_contents.append(image.tobytes())

        def call():
            response = stub.ModelInfer(request, timeout=30)
            check(len(response.raw_output_contents) == 1, "no output")
        return call
    return make_call


def http_call_factory(port, image):
    header = json.dumps({"inputs": [{"name": "image", "datatype": "FP32", "shape": SHAPE,
                                     "parameters": {"binary_data_size": image.nbytes}}],
                         "parameters": {"binary_data_output": True}}).encode()
    body = header + image.tobytes()
    headers = {"Content-Type": "application/octet-stream", "Inference-Header-Content-Length": str(len(header))}

    def make_call():
        connection = http.client.HTTPConnection(HOST, port, timeout=30)

        def call():
            connection.request("POST", f"/v2/models/{MODEL}/infer", body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            check(response.status == 200, f"HTTP {response.status}")
        return call
    return make_call


def in_process_anchor(kiln, model_file, threads, duration, directory):
    """kiln bench with `threads` concurrent callers: (inferences/s, p50 ms, p99 ms)."""
    out = os.path.join(directory, f"bench-{threads}.json")
    result = subprocess.run([kiln, "bench", model_file, "--batch", "1", "--threads", str(threads), "--duration", str(duration),
                             "--export-json", out], capture_output=True, text=True)
    check(result.returncode == 0, f"kiln bench failed:\n{result.stderr}")
    with open(out) as f:
        report = json.load(f)
    return report["queries_per_s"], report["latency_ms"]["p50"], report["latency_ms"]["p99"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kiln", required=True)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--protoc", default=shutil.which("protoc"))
    parser.add_argument("--grpc-python-plugin", default=shutil.which("grpc_python_plugin"))
    args = parser.parse_args()
    image = np.random.default_rng(0).standard_normal(SHAPE).astype(np.float32)
    with tempfile.TemporaryDirectory() as directory:
        generate_stubs(SOURCE_DIR, args.protoc, args.grpc_python_plugin, directory)
        import grpc_service_pb2 as pb
        import grpc_service_pb2_grpc as pb_grpc
        root = os.path.join(directory, "models")
        make_repository(root)
        model_file = os.path.join(root, MODEL, "1", "model.onnx")
        anchors = {c: in_process_anchor(args.kiln, model_file, c, args.duration, directory) for c in args.concurrency}
        server = KilnServer(args.kiln, ["--model-repository", root])
        rows = []
        try:
            transports = {"gRPC": grpc_call_factory(pb, pb_grpc, server.grpc_port, image),
                          "HTTP": http_call_factory(server.http_port, image)}
            for name, factory in transports.items():
                for concurrency in args.concurrency:
                    qps, latencies = run_clients(factory, concurrency, args.duration)
                    rows.append((name, concurrency, qps, percentile(latencies, 50), percentile(latencies, 99)))
        finally:
            code, log = server.stop()
        check(code == 0, f"kiln serve exit code {code}; log:\n{log}")
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"model {MODEL} batch 1, {os.cpu_count()} CPUs (load average {load}), {args.duration:g} s per row\n")
    print("| path | concurrency | requests/s | p50 ms | p99 ms | served/in-process req/s | p50 overhead ms | p99 overhead ms |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for concurrency, (qps, p50, p99) in anchors.items():
        print(f"| in-process (kiln bench, anchor) | {concurrency} | {qps:.0f} | {p50:.3f} | {p99:.3f} | 1.00 | - | - |")
    for name, concurrency, qps, p50, p99 in rows:
        anchor_qps, anchor_p50, anchor_p99 = anchors[concurrency]
        # With more clients than cores, latency is mostly waiting for a core (in kiln bench too, where
        # it lands between calls and is not counted), so overhead is reported at concurrency 1 only.
        overhead = f"{p50 - anchor_p50:.3f} | {p99 - anchor_p99:.3f}" if concurrency == 1 else "- | -"
        print(f"| {name} | {concurrency} | {qps:.0f} | {p50:.3f} | {p99:.3f} | {qps / anchor_qps:.2f} | {overhead} |")


if __name__ == "__main__":
    main()
