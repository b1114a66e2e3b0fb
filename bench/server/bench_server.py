#!/usr/bin/python3
"""kiln serve's throughput and the latency it adds, against the in-process runtime, same run.

Starts `kiln serve` on a one-model repository and measures requests/s and latency percentiles
over gRPC (ModelInfer with raw_input_contents, python3-grpcio) and HTTP (KServe v2 binary tensor
extension, keep-alive http.client), and with --transports gRPC+shm,HTTP+shm the same with inputs
in system shared memory, at a few client concurrencies. The anchor is `kiln bench` on
the same model file, at the request's batch size, with as many threads as there are clients,
in the same run: throughput is reported as served / in-process at the same concurrency, and
the overhead columns (concurrency 1) are the served latency minus the in-process latency at the
same percentile.

Default: examples/tiny_cnn.onnx on the CPU (batch-1 requests, FP32 [1,3,32,32]), the 2-core
build machine's row in docs/PERFORMANCE.md. On a GPU machine, give a plan and the GPU settings:
  bench_server.py --kiln kiln --model r50.plan --input input --dims 3,224,224 --request-batch 8 \\
      --max-batch-size 64 --preferred 32,64 --kind KIND_GPU --instances 2 --client-processes 8 --concurrency 16 32
Clients are Python processes (--client-processes, threads spread over them) sharing the
machine with the server, so the numbers include client-side work and are a floor on what the
server itself can do. Transports perf-gRPC and perf-HTTP drive the same requests (random
data of the same shape) with `kiln perf` instead: C++ clients, one connection each, which
take far less of the machine's CPU.

usage: /usr/bin/python3 bench/server/bench_server.py --kiln build/apps/kiln [--duration 5] [--concurrency 1 8]
"""
import argparse
import http.client
import json
import multiprocessing
import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "serving"))
from serve_test_util import HOST, KilnServer, check, http_request  # noqa: E402

MODEL = "bench_model"
GRPC_METHOD = "/inference.GRPCInferenceService/ModelInfer"


def make_repository(root, args):
    version = os.path.join(root, MODEL, "1")
    os.makedirs(version)
    file_name = "model.plan" if args.model.endswith(".plan") else "model.onnx"
    shutil.copy(args.model, os.path.join(version, file_name))
    dims = ", ".join(str(d) for d in args.dims)
    preferred = f"preferred_batch_size: [ {', '.join(str(p) for p in args.preferred)} ] " if args.preferred else ""
    with open(os.path.join(root, MODEL, "config.pbtxt"), "w") as f:
        f.write(f'name: "{MODEL}"\nmax_batch_size: {args.max_batch_size}\n'
                f'input [ {{ name: "{args.input}" data_type: TYPE_{args.dtype} dims: [ {dims} ] }} ]\n'
                f'dynamic_batching {{ {preferred}max_queue_delay_microseconds: {args.queue_delay_us} }}\n'
                f'instance_group [ {{ count: {args.instances} kind: {args.kind} }} ]\n')


def kserve_dtype(tensor):
    return {np.dtype(np.float16): "FP16", np.dtype(np.float32): "FP32"}[tensor.dtype]


def generate_messages(out_dir):
    """Python messages from kiln's .proto. Calls go through grpc's generic unary API, so no
    grpc_python_plugin is needed (GPU machines have protoc but not the plugin)."""
    subprocess.run([shutil.which("protoc") or "protoc", "-I", os.path.join(SOURCE_DIR, "apps", "proto"),
                    "-I", os.path.join(SOURCE_DIR, "src"), f"--python_out={out_dir}",
                    "grpc_service.proto", "serving/model_config.proto"], check=True)


def percentile(values, p):
    return float(np.percentile(np.array(values), p)) if values else float("nan")


def grpc_call(ports, tensor, input_name, stubs_dir):
    import grpc
    sys.path.insert(0, stubs_dir)
    import grpc_service_pb2 as pb
    channel = grpc.insecure_channel(f"{HOST}:{ports['gRPC']}", options=[("grpc.max_receive_message_length", -1),
                                                              ("grpc.max_send_message_length", -1)])
    # The request is serialised once, as perf_analyzer prepares its inputs once: the clients then
    # measure the server, not protobuf encoding 10 MB in Python on every call.
    infer = channel.unary_unary(GRPC_METHOD, request_serializer=None, response_deserializer=pb.ModelInferResponse.FromString)
    message = pb.ModelInferRequest(model_name=MODEL)
    message.inputs.add(name=input_name, datatype=kserve_dtype(tensor), shape=list(tensor.shape))
    message.raw_input_contents.append(tensor.tobytes())
    request = message.SerializeToString()

    def call():
        response = infer(request, timeout=60)
        check(len(response.raw_output_contents) >= 1, "no output")
    return call


def http_connection(port):
    """Keep-alive, with TCP_NODELAY as curl (perf_analyzer's HTTP client) sets it."""
    connection = http.client.HTTPConnection(HOST, port, timeout=60)
    connection.connect()
    connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return connection


def http_call(ports, tensor, input_name, _stubs_dir):
    header = json.dumps({"inputs": [{"name": input_name, "datatype": kserve_dtype(tensor), "shape": list(tensor.shape),
                                     "parameters": {"binary_data_size": tensor.nbytes}}],
                         "parameters": {"binary_data_output": True}}).encode()
    body = header + tensor.tobytes()
    headers = {"Content-Type": "application/octet-stream", "Inference-Header-Content-Length": str(len(header))}
    connection = http_connection(ports["HTTP"])

    def call():
        connection.request("POST", f"/v2/models/{MODEL}/infer", body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        check(response.status == 200, f"HTTP {response.status}")
    return call


def shared_input(ports, tensor):
    """A POSIX shared-memory object holding `tensor`, registered with the server over HTTP (KServe's
    system shared-memory extension, as perf_analyzer --shared-memory system): the request then
    carries only the region's name. Returns (parameters for the input, close())."""
    from multiprocessing import shared_memory
    block = shared_memory.SharedMemory(create=True, size=tensor.nbytes)
    block.buf[:tensor.nbytes] = tensor.tobytes()
    region = f"bench-{os.getpid()}-{threading.get_ident()}"
    key = "/" + block.name.lstrip("/")

    def post(path, body=None):
        status, answer = http_request(ports["HTTP"], "POST", path, body)
        check(status == 200, f"{path}: HTTP {status} {answer}")
    post(f"/v2/systemsharedmemory/region/{region}/register", {"key": key, "offset": 0, "byte_size": tensor.nbytes})

    def close():
        post(f"/v2/systemsharedmemory/region/{region}/unregister")
        block.close()
        block.unlink()
    return {"shared_memory_region": region, "shared_memory_byte_size": tensor.nbytes}, close


def grpc_shm_call(ports, tensor, input_name, stubs_dir):
    import grpc
    sys.path.insert(0, stubs_dir)
    import grpc_service_pb2 as pb
    parameters, close = shared_input(ports, tensor)
    channel = grpc.insecure_channel(f"{HOST}:{ports['gRPC']}", options=[("grpc.max_receive_message_length", -1)])
    infer = channel.unary_unary(GRPC_METHOD, request_serializer=None, response_deserializer=pb.ModelInferResponse.FromString)
    message = pb.ModelInferRequest(model_name=MODEL)
    entry = message.inputs.add(name=input_name, datatype=kserve_dtype(tensor), shape=list(tensor.shape))
    entry.parameters["shared_memory_region"].string_param = parameters["shared_memory_region"]
    entry.parameters["shared_memory_byte_size"].int64_param = parameters["shared_memory_byte_size"]
    request = message.SerializeToString()

    def call():
        response = infer(request, timeout=60)
        check(len(response.raw_output_contents) >= 1, "no output")
    call.close = close
    return call


def http_shm_call(ports, tensor, input_name, _stubs_dir):
    parameters, close = shared_input(ports, tensor)
    body = json.dumps({"inputs": [{"name": input_name, "datatype": kserve_dtype(tensor), "shape": list(tensor.shape), "parameters": parameters}],
                       "parameters": {"binary_data_output": True}}).encode()
    connection = http_connection(ports["HTTP"])

    def call():
        connection.request("POST", f"/v2/models/{MODEL}/infer", body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        check(response.status == 200, f"HTTP {response.status}")
    call.close = close
    return call


# Outputs come back in the response on every transport (they are small next to the inputs).
TRANSPORTS = {"gRPC": grpc_call, "HTTP": http_call, "gRPC+shm": grpc_shm_call, "HTTP+shm": http_shm_call}


def client_process(transport, ports, tensor, input_name, stubs_dir, threads, start, stop, results):
    """`threads` closed-loop clients; puts (latencies ms, errors) on `results` when `stop` is set."""
    latencies, errors = [], []
    lock = threading.Lock()
    ready = threading.Barrier(threads + 1)

    def worker():
        try:
            call = TRANSPORTS[transport](ports, tensor, input_name, stubs_dir)
            call()  # warm the connection
        except Exception as e:  # noqa: BLE001 - reported by the parent
            errors.append(repr(e))
            ready.abort()
            return
        local = []
        ready.wait()
        start.wait()
        while not stop.is_set():
            t0 = time.perf_counter()
            try:
                call()
            except Exception as e:  # noqa: BLE001
                errors.append(repr(e))
                break
            local.append((time.perf_counter() - t0) * 1000)
        if hasattr(call, "close"):
            call.close()
        with lock:
            latencies.extend(local)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    try:
        ready.wait()
    except threading.BrokenBarrierError:
        pass
    for t in pool:
        t.join()
    results.put((latencies, errors))


def run_kiln_perf(kiln, transport, ports, request_batch, concurrency, duration, directory):
    """(requests/s, p50 ms, p99 ms) of `concurrency` kiln perf clients (transport perf-gRPC or perf-HTTP,
    with +shm: kiln perf --shared-memory system)."""
    protocol = transport.split("-", 1)[1].removesuffix("+shm")
    shm = transport.endswith("+shm")
    out = os.path.join(directory, f"perf_{protocol}_{'shm_' if shm else ''}{concurrency}.json")
    command = [kiln, "perf", "-m", MODEL, "-u", f"{HOST}:{ports[protocol]}", "-i", protocol.lower(), "-c", str(concurrency),
               "--batch", str(request_batch), "--duration", str(duration), "--warmup", "2", "--export-json", out]
    if shm:
        command += ["--shared-memory", "system"]
    completed = subprocess.run(command, capture_output=True, text=True)
    check(completed.returncode == 0, f"{' '.join(command)}: {completed.stderr[-500:]}")
    with open(out) as f:
        level = json.load(f)["levels"][0]
    return level["requests_per_s"], level["latency_ms"]["p50"], level["latency_ms"]["p99"]


def run_clients(transport, ports, tensor, input_name, stubs_dir, concurrency, processes, duration):
    """Returns (requests/s, latencies ms) of `concurrency` closed-loop clients in `processes` processes."""
    ctx = multiprocessing.get_context("spawn")
    start, stop, results = ctx.Event(), ctx.Event(), ctx.Queue()
    processes = max(1, min(processes, concurrency))
    shares = [concurrency // processes + (1 if i < concurrency % processes else 0) for i in range(processes)]
    procs = [ctx.Process(target=client_process, args=(transport, ports, tensor, input_name, stubs_dir, n, start, stop, results))
             for n in shares]
    for p in procs:
        p.start()
    time.sleep(2.0 + 0.1 * concurrency)  # connections and warm-up calls
    start.set()
    began = time.perf_counter()
    time.sleep(duration)
    stop.set()
    latencies, errors = [], []
    for _ in procs:
        lat, err = results.get(timeout=120)
        latencies.extend(lat)
        errors.extend(err)
    elapsed = time.perf_counter() - began
    for p in procs:
        p.join()
    check(not errors, f"client errors: {errors[:3]}")
    return len(latencies) / elapsed, latencies


# The engine kiln serve builds for an ONNX model of each instance kind (a plan runs as built).
ANCHOR_BACKEND = {"KIND_CPU": "cpu", "KIND_GPU": "cuda", "KIND_AUTO": "auto"}


def in_process_anchor(kiln, model_file, kind, batch, threads, duration, directory):
    """kiln bench with `threads` concurrent callers at `batch`: (inferences/s, p50 ms, p99 ms)."""
    out = os.path.join(directory, f"bench-{threads}.json")
    engine = [] if model_file.endswith(".plan") else ["--backend", ANCHOR_BACKEND[kind]]
    result = subprocess.run([kiln, "bench", model_file, "--batch", str(batch), "--threads", str(threads), "--duration",
                             str(duration), "--export-json", out] + engine, capture_output=True, text=True)
    check(result.returncode == 0, f"kiln bench failed:\n{result.stderr}")
    with open(out) as f:
        report = json.load(f)
    return report["queries_per_s"], report["latency_ms"]["p50"], report["latency_ms"]["p99"]


STAT_FIELDS = ("queue", "compute_input", "compute_infer", "compute_output")


def server_statistics(server):
    """The model's cumulative statistics (KServe v2 statistics extension)."""
    with urllib.request.urlopen(f"http://{HOST}:{server.http_port}/v2/models/{MODEL}/stats", timeout=10) as r:
        stats = json.load(r)["model_stats"][0]
    inference = stats["inference_stats"]
    totals = {field: (inference[field]["count"], inference[field]["ns"]) for field in STAT_FIELDS}
    totals["batches"] = (stats["execution_count"], stats["inference_count"])
    return totals


def stage_breakdown(before, after):
    """Per request: mean ms in each server stage between two snapshots, and the mean batch rows."""
    row = {}
    for field in STAT_FIELDS:
        count = after[field][0] - before[field][0]
        row[field] = (after[field][1] - before[field][1]) / count / 1e6 if count else float("nan")
    executions = after["batches"][0] - before["batches"][0]
    row["batch_rows"] = (after["batches"][1] - before["batches"][1]) / executions if executions else float("nan")
    return row


def model_ready(server):
    return server.answers_ok(f"/v2/models/{MODEL}/ready")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kiln", required=True)
    parser.add_argument("--model", default=os.path.join(SOURCE_DIR, "examples", "tiny_cnn.onnx"), help=".onnx or .plan")
    parser.add_argument("--input", default="image", help="the model's input name")
    parser.add_argument("--dims", default="3,32,32", help="input dims without the batch dim")
    parser.add_argument("--request-batch", type=int, default=1)
    parser.add_argument("--max-batch-size", type=int, default=8)
    parser.add_argument("--preferred", default="", help="preferred_batch_size list, e.g. 32,64")
    parser.add_argument("--queue-delay-us", type=int, default=100)
    parser.add_argument("--kind", default="KIND_CPU", choices=["KIND_CPU", "KIND_GPU", "KIND_AUTO"])
    parser.add_argument("--instances", type=int, default=2)
    parser.add_argument("--client-processes", type=int, default=1)
    parser.add_argument("--transports", default="gRPC,HTTP",
                        help="comma-separated: gRPC, HTTP (tensors in the request), gRPC+shm, HTTP+shm (inputs in system shared memory), perf-gRPC, perf-HTTP (kiln perf as the client), perf-gRPC+shm, perf-HTTP+shm (kiln perf --shared-memory system)")
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--anchor-batch", type=int, default=0,
                        help="kiln bench's batch (default: the request batch); ratios then compare samples/s")
    parser.add_argument("--anchor-threads", type=int, default=0,
                        help="kiln bench's threads (default: as many as clients, per concurrency)")
    parser.add_argument("--dtype", default="FP32", choices=["FP32", "FP16"],
                        help="the input's type (FP16: a plan built with --low-precision-io)")
    parser.add_argument("--json", help="also write the rows here")
    parser.add_argument("--server-args", default="", help="more kiln serve flags, e.g. '--pinned-memory-pool-byte-size 1GB'")
    args = parser.parse_args()
    args.dims = [int(d) for d in args.dims.split(",")]
    args.preferred = [int(p) for p in args.preferred.split(",")] if args.preferred else []
    shape = [args.request_batch] + args.dims
    tensor = np.random.default_rng(0).standard_normal(shape).astype(np.float16 if args.dtype == "FP16" else np.float32)
    transports = [t for t in args.transports.split(",") if t]
    with tempfile.TemporaryDirectory() as directory:
        generate_messages(directory)
        root = os.path.join(directory, "models")
        make_repository(root, args)
        model_file = args.model
        anchor_batch = args.anchor_batch or args.request_batch
        anchors = {c: in_process_anchor(args.kiln, model_file, args.kind, anchor_batch, args.anchor_threads or c, args.duration, directory)
                   for c in args.concurrency}
        shm = ["--allow-client-shm"] if any(t.endswith("+shm") for t in transports) else []
        server = KilnServer(args.kiln, ["--model-repository", root] + shm + shlex.split(args.server_args), ready=model_ready)
        rows, stages = [], []
        try:
            ports = {"gRPC": server.grpc_port, "HTTP": server.http_port}
            for name in transports:
                for concurrency in args.concurrency:
                    before = server_statistics(server)
                    if name.startswith("perf-"):
                        rows.append((name, concurrency, *run_kiln_perf(args.kiln, name, ports, args.request_batch, concurrency,
                                                                       args.duration, directory)))
                    else:
                        qps, latencies = run_clients(name, ports, tensor, args.input, directory, concurrency,
                                                     args.client_processes, args.duration)
                        rows.append((name, concurrency, qps, percentile(latencies, 50), percentile(latencies, 99)))
                    stages.append((name, concurrency, stage_breakdown(before, server_statistics(server))))
            # The GPU series (NVML) as the server exports them during the run, where a GPU exists.
            with urllib.request.urlopen(f"http://{HOST}:{server.metrics_port}/metrics", timeout=10) as r:
                gpu_metrics = [line for line in r.read().decode().splitlines() if line.startswith("nv_gpu_")]
        finally:
            code, log = server.stop()
        check(code == 0, f"kiln serve exit code {code}; log:\n{log}")
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"model {os.path.basename(args.model)} request batch {args.request_batch}, {args.kind} x{args.instances}, "
          f"{os.cpu_count()} CPUs (load average {load}), {args.duration:g} s per row\n")
    # Ratios compare samples/s: served requests x request batch against kiln bench calls x its batch.
    print(f"anchor: kiln bench --batch {anchor_batch}" + (f" --threads {args.anchor_threads}" if args.anchor_threads else "") + "\n")
    print("| path | concurrency | requests/s | samples/s | p50 ms | p99 ms | served/in-process samples/s | p50 overhead ms | p99 overhead ms |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for concurrency, (qps, p50, p99) in anchors.items():
        print(f"| in-process (kiln bench, anchor) | {concurrency} | {qps:.0f} | {qps * anchor_batch:.0f} | {p50:.3f} | {p99:.3f} | 1.00 | - | - |")
    for name, concurrency, qps, p50, p99 in rows:
        anchor_qps, anchor_p50, anchor_p99 = anchors[concurrency]
        # With more clients than cores, latency is mostly waiting for a core (in kiln bench too, where
        # it lands between calls and is not counted), so overhead is reported at concurrency 1 only,
        # and only when both sides run the same batch.
        same = concurrency == 1 and anchor_batch == args.request_batch
        overhead = f"{p50 - anchor_p50:.3f} | {p99 - anchor_p99:.3f}" if same else "- | -"
        ratio = (qps * args.request_batch) / (anchor_qps * anchor_batch)
        print(f"| {name} | {concurrency} | {qps:.0f} | {qps * args.request_batch:.0f} | {p50:.3f} | {p99:.3f} | {ratio:.2f} | {overhead} |")
    # Where a request's time goes inside the server (its statistics endpoint; warm-up calls
    # included): what the clients see beyond queue + compute is transport, decoding and the client.
    print("\n| path | concurrency | rows per execution | queue ms | input ms | infer ms | output ms |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, concurrency, st in stages:
        print(f"| {name} | {concurrency} | {st['batch_rows']:.1f} | {st['queue']:.3f} | {st['compute_input']:.3f} | "
              f"{st['compute_infer']:.3f} | {st['compute_output']:.3f} |")
    print("\nGPU metrics at the end of the run:" if gpu_metrics else "\nno GPU metrics (no NVML here)")
    for line in gpu_metrics:
        print("    " + line)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"anchors": {str(c): dict(zip(("per_s", "p50_ms", "p99_ms"), a)) for c, a in anchors.items()},
                       "rows": [dict(zip(("transport", "concurrency", "per_s", "p50_ms", "p99_ms"), r)) for r in rows],
                       "server_stages_ms": [{"transport": n, "concurrency": c, **st} for n, c, st in stages]},
                      f, indent=1)


if __name__ == "__main__":
    main()
