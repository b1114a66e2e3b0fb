"""kiln serve builds engines from ONNX models on load: a repository in a temp dir with
examples/tiny_cnn.onnx on KIND_CPU instances (dynamic batching, model_warmup), the same model on
the reference executor to compare against, an auto-completed model, and broken configs. Checks
that engines answer as the reference executor on fresh random inputs, that the engine cache fills,
that a restart hits it without building, that a damaged entry is rebuilt, that an unwritable
cache still serves, and that bad configs fail only their own model, with file, line and field.

usage: serve_engine_test.py KILN_BINARY SOURCE_DIR
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

import numpy as np
from onnx import TensorProto, helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_test_util import HOST, KilnServer, check, reference_affine, save_model  # noqa: E402

CNN_CONFIG = """name: "{name}"
max_batch_size: 4
input [ {{ name: "image" data_type: TYPE_FP32 dims: [ 3, 32, 32 ] }} ]
dynamic_batching {{ max_queue_delay_microseconds: 1000 }}
instance_group [ {{ count: 2 kind: KIND_CPU }} ]
{extra}
"""
WARMUP = """model_warmup [
  { name: "zeros" batch_size: 1 inputs { key: "image" value: { data_type: TYPE_FP32 dims: [ 3, 32, 32 ] zero_data: true } } },
  { name: "noise" batch_size: 3 count: 2
    inputs { key: "image" value: { data_type: TYPE_FP32 dims: [ 3, 32, 32 ] random_data: true } } },
  { name: "file" batch_size: 2
    inputs { key: "image" value: { data_type: TYPE_FP32 dims: [ 3, 32, 32 ] input_data_file: "image.bin" } } } ]
"""
BAD_WARMUP_LINE = 4
BAD_WARMUP = """max_batch_size: 2
input [ { name: "x" data_type: TYPE_FP32 dims: [ 4 ] } ]
model_warmup [ { name: "typo" batch_size: 1
  inputs { key: "X" value: { data_type: TYPE_FP32 dims: [ 4 ] zero_data: true } } } ]
"""
REFERENCE = 'parameters { key: "executor" value: { string_value: "reference" } }'
BAD_PRECISION_LINE = 3
BAD_PRECISION = ('name: "bad_precision"\nmax_batch_size: 4\n'
                 'parameters { key: "precision" value: { string_value: "fp17" } }\n')
# An fp16 engine whose config declares FP16 I/O for a float32 model: built with low-precision
# I/O, so clients send and receive FP16.
FP16_IO = ('name: "affine_fp16io"\nmax_batch_size: 4\n'
           'input [ { name: "x" data_type: TYPE_FP16 dims: [ 4 ] } ]\n'
           'instance_group [ { count: 1 kind: KIND_CPU } ]\n'
           'parameters { key: "precision" value: { string_value: "fp16" } }\n')
# The same declaration on an fp32 engine contradicts the model.
FP16_ON_FP32 = 'name: "fp16_on_fp32"\nmax_batch_size: 4\ninput [ { name: "x" data_type: TYPE_FP16 dims: [ 4 ] } ]\n'
GPU = 'name: "gpu_only"\nmax_batch_size: 4\ninstance_group [ { count: 1 kind: KIND_GPU } ]\n'


def request(port, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://{HOST}:{port}{path}", data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            text = r.read()
            return r.status, json.loads(text) if text else None
    except urllib.error.HTTPError as e:
        text = e.read()
        return e.code, json.loads(text) if text else None


def infer(port, model, name, x):
    status, out = request(port, "POST", f"/v2/models/{model}/infer", {
        "inputs": [{"name": name, "shape": list(x.shape), "datatype": "FP32", "data": x.flatten().tolist()}]})
    check(status == 200, f"{model} infer: {status} {out}")
    return np.array(out["outputs"][0]["data"], np.float32).reshape(out["outputs"][0]["shape"])


def make_repository(root, source_dir, kiln):
    # A plan built ahead of time: found as <version>/model.plan without default_model_filename.
    os.makedirs(os.path.join(root, "planned", "1"))
    subprocess.run([kiln, "build", os.path.join(source_dir, "examples", "tiny_cnn.onnx"), "-o",
                    os.path.join(root, "planned", "1", "model.plan"), "--backend", "cpu", "--batch", "4"],
                   check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(root, "planned", "config.pbtxt"), "w") as f:
        f.write(CNN_CONFIG.format(name="planned", extra=""))
    # cnn's CPU kernels on one thread, through the parameter Triton's onnxruntime backend reads.
    one_thread = '\nparameters { key: "intra_op_thread_count" value: { string_value: "1" } }'
    for name, extra in (("cnn", WARMUP + one_thread), ("cnn_reference", REFERENCE)):
        os.makedirs(os.path.join(root, name, "1"))
        shutil.copy(os.path.join(source_dir, "examples", "tiny_cnn.onnx"), os.path.join(root, name, "1", "model.onnx"))
        with open(os.path.join(root, name, "config.pbtxt"), "w") as f:
            f.write(CNN_CONFIG.format(name=name, extra=extra))
    os.makedirs(os.path.join(root, "cnn", "warmup"))
    np.ones((3, 32, 32), np.float32).tofile(os.path.join(root, "cnn", "warmup", "image.bin"))  # one sample
    affine = dict(nodes=[helper.make_node("Mul", ["x", "w"], ["t"]), helper.make_node("Add", ["t", "b"], ["y"])],
                  outputs=[helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4])],
                  initializers=[helper.make_tensor("w", TensorProto.FLOAT, [4], [1.5, -2.0, 0.5, 3.0]),
                                helper.make_tensor("b", TensorProto.FLOAT, [4], [0.25, 1.0, -1.0, 2.0])])
    fixed = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])]
    save_model(root, "affine", 1, affine["nodes"], fixed, affine["outputs"], affine["initializers"])  # no config
    batched = [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])]
    batched_out = [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])]
    save_model(root, "gpu_only", 1, affine["nodes"], batched, batched_out, affine["initializers"], config=GPU)
    save_model(root, "bad_precision", 1, affine["nodes"], batched, batched_out, affine["initializers"],
               config=BAD_PRECISION)
    save_model(root, "affine_fp16io", 1, affine["nodes"], batched, batched_out, affine["initializers"], config=FP16_IO)
    save_model(root, "fp16_on_fp32", 1, affine["nodes"], batched, batched_out, affine["initializers"],
               config=FP16_ON_FP32)
    save_model(root, "bad_warmup", 1, affine["nodes"], batched, batched_out, affine["initializers"], config=BAD_WARMUP)
    # A variable feature dim: an engine needs it concrete, so the model fails with the input named.
    variable = [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", "F"])]
    save_model(root, "variable", 1, [helper.make_node("Relu", ["x"], ["y"])], variable,
               [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", "F"])], config='max_batch_size: 2\n')


def check_fp16_io(port, rng):
    """The low-precision-I/O engine: metadata, an FP16 request and an FP16 answer near numpy's."""
    status, meta = request(port, "GET", "/v2/models/affine_fp16io")
    check(status == 200 and meta["inputs"][0]["datatype"] == "FP16" and meta["outputs"][0]["datatype"] == "FP16",
          f"affine_fp16io metadata: {status} {meta}")
    x = rng.standard_normal((3, 4)).astype(np.float16)
    status, out = request(port, "POST", "/v2/models/affine_fp16io/infer", {
        "inputs": [{"name": "x", "shape": [3, 4], "datatype": "FP16", "data": x.astype(np.float32).flatten().tolist()}]})
    check(status == 200 and out["outputs"][0]["datatype"] == "FP16", f"affine_fp16io infer: {status} {out}")
    y = np.array(out["outputs"][0]["data"], np.float32).reshape(3, 4)
    want = reference_affine(x.astype(np.float32))
    check(np.allclose(y, want, rtol=1e-2, atol=1e-2), f"affine_fp16io: {y} vs {want}")


def index(port):
    status, entries = request(port, "POST", "/v2/repository/index", {})
    check(status == 200, f"index: {status} {entries}")
    return {e["name"]: e for e in entries}


def cache_entries(directory):
    return sorted(f for f in os.listdir(directory) if f.endswith(".plan")) if os.path.isdir(directory) else []


def check_answers(port, rng):
    """Engines against the reference executor and numpy, on fresh random inputs, batches 1 to 4
    (3 is padded up to the batch-4 profile)."""
    for batch in (1, 2, 3, 4):
        x = rng.standard_normal((batch, 3, 32, 32)).astype(np.float32)
        got, want = infer(port, "cnn", "image", x), infer(port, "cnn_reference", "image", x)
        check(got.shape == (batch, 10) and np.allclose(got, want, atol=1e-4), f"cnn batch {batch}: {got} vs {want}")
        planned = infer(port, "planned", "image", x)
        check(np.allclose(planned, want, atol=1e-4), f"planned batch {batch}: {planned} vs {want}")
    x = rng.standard_normal((2, 4)).astype(np.float32)
    y = infer(port, "affine", "x", x)
    check(np.allclose(y, reference_affine(x), atol=1e-5), f"affine: {y} vs {reference_affine(x)}")


def main():
    kiln, source_dir = sys.argv[1], sys.argv[2]
    rng = np.random.default_rng()
    with tempfile.TemporaryDirectory() as root:
        repo = os.path.join(root, "repo")
        make_repository(repo, source_dir, kiln)
        cache = os.path.join(repo, ".kiln-cache")

        # First start: every ONNX model is built; the cache fills.
        server = KilnServer(kiln, ["--model-repository", repo])
        try:
            entries = index(server.http_port)
            for name in ("cnn", "cnn_reference", "affine", "planned", "affine_fp16io"):
                check(entries[name]["state"] == "READY", f"{name}: {entries[name]}")
            bad = entries["bad_precision"]
            where = f"bad_precision/config.pbtxt:{BAD_PRECISION_LINE}: parameters[\"precision\"]: 'fp17'"
            check(bad["state"] == "UNAVAILABLE" and where in bad["reason"], f"bad_precision: {bad}")
            status, body = request(server.http_port, "GET", "/v2/models/bad_precision/ready")
            check(status == 400 and where in body["error"], f"bad_precision ready: {status} {body}")
            warm = entries["bad_warmup"]
            check(warm["state"] == "UNAVAILABLE" and
                  f"bad_warmup/config.pbtxt:{BAD_WARMUP_LINE}: model_warmup[0].inputs[\"X\"]: the model has no input 'X'"
                  in warm["reason"], f"bad_warmup: {warm}")
            variable = entries["variable"]
            check(variable["state"] == "UNAVAILABLE" and "input[0].dims: input 'x' has the variable dimension 0" in
                  variable["reason"], f"variable: {variable}")
            mismatch = entries["fp16_on_fp32"]
            check(mismatch["state"] == "UNAVAILABLE" and
                  "input 'x'.data_type: TYPE_FP16 does not match the model's float32" in mismatch["reason"],
                  f"fp16_on_fp32: {mismatch}")
            check_fp16_io(server.http_port, rng)
            gpu = entries["gpu_only"]
            check(gpu["state"] == "READY" or ("gpu_only/config.pbtxt:3: instance_group[0].kind: KIND_GPU" in gpu["reason"]),
                  f"gpu_only: {gpu}")
            check_answers(server.http_port, rng)
        finally:
            code, log = server.stop()
        check(code == 0, f"exit code {code}\n{log}")
        for text in ("model 'cnn' version 1: engine cache miss", "model 'cnn' version 1: building profile 3/3",
                     "model 'cnn' version 1: warming up (3 model_warmup entries)", "model 'cnn' version 1: engine: host",
                     "fp32, 3 profiles, CPU kernels on 1 thread",
                     "model 'affine' version 1: engine: host", "model 'cnn_reference' version 1: reference executor"):
            check(text in log, f"log lacks {text!r}:\n{log}")
        gpu_ready = "model 'gpu_only': ready" in log
        # cnn, affine, affine_fp16io, bad_warmup (built, then its warmup failed), gpu_only on a GPU
        plans = cache_entries(cache)
        check(len(plans) == 4 + gpu_ready and any(p.startswith("cnn.1.") for p in plans), f"cache entries {plans}")
        cnn_plan = os.path.join(cache, next(p for p in plans if p.startswith("cnn.1.")))
        built = os.stat(cnn_plan)
        with open(cnn_plan, "rb") as f:
            built_digest = hashlib.sha256(f.read()).hexdigest()

        # Restart: both engines come from the cache, nothing is built or rewritten.
        server = KilnServer(kiln, ["--model-repository", repo])
        try:
            check_answers(server.http_port, rng)
        finally:
            code, log = server.stop()
        for name in ("cnn", "affine"):
            check(f"model '{name}' version 1: engine cache hit" in log, f"{name} missed the cache:\n{log}")
        check("building" not in log, f"a warm restart built something:\n{log}")
        again = os.stat(cnn_plan)
        with open(cnn_plan, "rb") as f:
            again_digest = hashlib.sha256(f.read()).hexdigest()
        check((again.st_ino, again_digest) == (built.st_ino, built_digest), "the cached plan was rewritten")
        # A hit marks its entry used (the modification time is the cache's LRU clock).
        check(again.st_mtime_ns >= built.st_mtime_ns, "a cache hit moved the entry's time backwards")

        # A damaged entry is refused, rebuilt and replaced.
        with open(cnn_plan, "r+b") as f:
            f.seek(0)
            f.write(b"\0" * 64)
        server = KilnServer(kiln, ["--model-repository", repo])
        try:
            check_answers(server.http_port, rng)
        finally:
            code, log = server.stop()
        check(f"model 'cnn' version 1: cached engine {cnn_plan} refused" in log and "rebuilding" in log, log)
        check(cache_entries(cache) == plans, f"entries after the rebuild: {cache_entries(cache)} vs {plans}")
        with open(cnn_plan, "rb") as f:
            check(f.read(8) == b"KILNPLAN", "the rebuilt entry is a plan again")

        # An unusable cache directory still serves, building in memory with a warning.
        blocker = os.path.join(root, "not_a_directory")
        open(blocker, "w").close()
        server = KilnServer(kiln, ["--model-repository", repo, "--engine-cache", os.path.join(blocker, "cache")])
        try:
            check_answers(server.http_port, rng)
        finally:
            code, log = server.stop()
        check("warning: model 'cnn' version 1: engine cache unusable" in log, log)
    print("serve engine tests passed")


if __name__ == "__main__":
    main()
