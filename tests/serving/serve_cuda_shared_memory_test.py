"""kiln serve's CUDA shared-memory extension (KServe/Triton) with real GPU memory: this process
allocates device buffers (cudaMalloc through ctypes, as Triton's cuda_shared_memory client utility
does), registers their CUDA IPC handles over HTTP and gRPC, runs a KIND_GPU model whose input is
read from one region and whose output is written into another, and checks the output it copies
back against numpy on fresh random data. A KIND_CPU model refuses inputs in GPU memory, and
unregistered regions are gone. Needs a CUDA device and a CUDA build of kiln: skipped (exit 77)
elsewhere; scripts/gpu/run-tests.sh runs it on the GPU machine.

usage: serve_cuda_shared_memory_test.py KILN_BINARY SOURCE_DIR [PROTOC]
(gRPC calls go through grpc's generic API with protoc's Python messages: the GPU machine has no
grpc_python_plugin.)
"""
import base64
import ctypes
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
from onnx import TensorProto, helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_test_util import HOST, KilnServer, check, http_request, save_model  # noqa: E402

SKIP = 77
ELEMENTS = 1024
BYTES = ELEMENTS * 4
H2D, D2H = 1, 2


class Cuda:
    """The few CUDA runtime calls a client needs, through ctypes."""

    def __init__(self):
        self.lib = None
        for name in ("libcudart.so.13", "libcudart.so.12", "libcudart.so"):
            try:
                self.lib = ctypes.CDLL(name)
                break
            except OSError:
                continue
        count = ctypes.c_int(0)
        if self.lib is None or self.lib.cudaGetDeviceCount(ctypes.byref(count)) != 0 or count.value == 0:
            self.lib = None

    def call(self, what, code):
        check(code == 0, f"{what} failed with CUDA error {code}")

    def malloc(self, size):
        ptr = ctypes.c_void_p()
        self.call("cudaMalloc", self.lib.cudaMalloc(ctypes.byref(ptr), ctypes.c_size_t(size)))
        return ptr

    def upload(self, ptr, array):
        data = np.ascontiguousarray(array)
        self.call("cudaMemcpy H2D", self.lib.cudaMemcpy(ptr, data.ctypes.data_as(ctypes.c_void_p), ctypes.c_size_t(data.nbytes), H2D))

    def download(self, ptr, count):
        out = np.empty(count, np.float32)
        self.call("cudaMemcpy D2H", self.lib.cudaMemcpy(out.ctypes.data_as(ctypes.c_void_p), ptr, ctypes.c_size_t(out.nbytes), D2H))
        return out

    def ipc_handle(self, ptr):
        handle = (ctypes.c_byte * 64)()
        self.call("cudaIpcGetMemHandle", self.lib.cudaIpcGetMemHandle(ctypes.byref(handle), ptr))
        return bytes(handle)


def make_repository(root):
    for name, kind in (("affine_gpu", "KIND_GPU"), ("affine_cpu", "KIND_CPU")):
        save_model(root, name, 1, [helper.make_node("Mul", ["x", "three"], ["t"]), helper.make_node("Add", ["t", "one"], ["y"])],
                   [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", ELEMENTS])],
                   [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", ELEMENTS])],
                   [helper.make_tensor("three", TensorProto.FLOAT, [1], [3.0]), helper.make_tensor("one", TensorProto.FLOAT, [1], [1.0])],
                   config=f'name: "{name}"\nmax_batch_size: 4\n'
                          f'input [ {{ name: "x" data_type: TYPE_FP32 dims: [ {ELEMENTS} ] }} ]\n'
                          f'output [ {{ name: "y" data_type: TYPE_FP32 dims: [ {ELEMENTS} ] }} ]\n'
                          f'instance_group [ {{ count: 1 kind: {kind} }} ]\n')


def shm_request(model_input_region, output_region=None):
    request = {"inputs": [{"name": "x", "shape": [1, ELEMENTS], "datatype": "FP32",
                           "parameters": {"shared_memory_region": model_input_region, "shared_memory_byte_size": BYTES}}]}
    if output_region:
        request["outputs"] = [{"name": "y", "parameters": {"shared_memory_region": output_region, "shared_memory_byte_size": BYTES}}]
    return request


def main():
    kiln, source_dir = sys.argv[1:3]
    protoc = sys.argv[3] if len(sys.argv) > 3 else shutil.which("protoc") or "protoc"
    cuda = Cuda()
    if cuda.lib is None:
        print("SKIPPED: no CUDA runtime or device here; run on the GPU machine (scripts/gpu/run-tests.sh)")
        sys.exit(SKIP)
    rng = np.random.default_rng(20261203)
    x_buffer, y_buffer = cuda.malloc(BYTES), cuda.malloc(BYTES)
    with tempfile.TemporaryDirectory() as work:
        subprocess.run([protoc, "-I", os.path.join(source_dir, "apps", "proto"), "-I", os.path.join(source_dir, "src"),
                        f"--python_out={work}", "grpc_service.proto", "serving/model_config.proto"], check=True)
        sys.path.insert(0, work)
        import grpc
        import grpc_service_pb2 as pb
        make_repository(f"{work}/models")
        server = KilnServer(kiln, ["--model-repository", f"{work}/models", "--allow-client-shm"])
        try:
            port = server.http_port
            for name, ptr in (("gx", x_buffer), ("gy", y_buffer)):
                code, answer = http_request(port, "POST", f"/v2/cudasharedmemory/region/{name}/register",
                                            {"raw_handle": {"b64": base64.b64encode(cuda.ipc_handle(ptr)).decode()},
                                             "device_id": 0, "byte_size": BYTES})
                check(code == 200, f"register {name}: HTTP {code} {answer}")
            code, regions = http_request(port, "GET", "/v2/cudasharedmemory/status")
            check(code == 200 and sorted(r["name"] for r in regions) == ["gx", "gy"], f"status: {regions}")

            # Input and output in GPU memory, over HTTP: the answer carries no data, the region does.
            for round_ in range(3):
                x = rng.standard_normal(ELEMENTS).astype(np.float32)
                cuda.upload(x_buffer, x)
                code, answer = http_request(port, "POST", "/v2/models/affine_gpu/infer", shm_request("gx", "gy"))
                check(code == 200, f"HTTP infer {round_}: {code} {answer}")
                y = cuda.download(y_buffer, ELEMENTS)
                check(np.allclose(y, 3 * x + 1, rtol=1e-6, atol=1e-6), f"HTTP round {round_}: wrong values in the output region")
            # Input in GPU memory, output in the JSON answer.
            x = rng.standard_normal(ELEMENTS).astype(np.float32)
            cuda.upload(x_buffer, x)
            code, answer = http_request(port, "POST", "/v2/models/affine_gpu/infer", shm_request("gx"))
            check(code == 200, f"HTTP infer, output in the answer: {code} {answer}")
            check(np.allclose(np.array(answer["outputs"][0]["data"], np.float32), 3 * x + 1, rtol=1e-6, atol=1e-6), "JSON output")
            # A CPU model must not read GPU memory on the host.
            code, answer = http_request(port, "POST", "/v2/models/affine_cpu/infer", shm_request("gx"))
            check(code == 400 and "runs on the CPU" in answer.get("error", ""), f"KIND_CPU with a CUDA input: {code} {answer}")

            # gRPC, the same regions.
            channel = grpc.insecure_channel(f"{HOST}:{server.grpc_port}")

            def rpc(method, request, response_type):
                call = channel.unary_unary(f"/inference.GRPCInferenceService/{method}", request_serializer=lambda m: m.SerializeToString(),
                                           response_deserializer=response_type.FromString)
                return call(request, timeout=60)

            status = rpc("CudaSharedMemoryStatus", pb.CudaSharedMemoryStatusRequest(name="gx"), pb.CudaSharedMemoryStatusResponse)
            check(status.regions["gx"].byte_size == BYTES, f"gRPC status: {status}")
            x = rng.standard_normal(ELEMENTS).astype(np.float32)
            cuda.upload(x_buffer, x)
            request = pb.ModelInferRequest(model_name="affine_gpu")
            tensor = request.inputs.add(name="x", datatype="FP32", shape=[1, ELEMENTS])
            tensor.parameters["shared_memory_region"].string_param = "gx"
            tensor.parameters["shared_memory_byte_size"].int64_param = BYTES
            output = request.outputs.add(name="y")
            output.parameters["shared_memory_region"].string_param = "gy"
            output.parameters["shared_memory_byte_size"].int64_param = BYTES
            rpc("ModelInfer", request, pb.ModelInferResponse)
            check(np.allclose(cuda.download(y_buffer, ELEMENTS), 3 * x + 1, rtol=1e-6, atol=1e-6), "gRPC: wrong values in the output region")

            rpc("CudaSharedMemoryUnregister", pb.CudaSharedMemoryUnregisterRequest(name="gx"), pb.CudaSharedMemoryUnregisterResponse)
            code, regions = http_request(port, "GET", "/v2/cudasharedmemory/status")
            check([r["name"] for r in regions] == ["gy"], f"after unregistering gx: {regions}")
            code, answer = http_request(port, "POST", "/v2/models/affine_gpu/infer", shm_request("gx", "gy"))
            check(code == 404, f"infer with an unregistered region: {code} {answer}")
            code, _ = http_request(port, "POST", "/v2/cudasharedmemory/unregister", {})
            check(code == 200, "unregister all")
            check(server.alive(), "kiln serve died")
        finally:
            code, log = server.stop()
        check(code == 0, f"kiln serve exited with {code}:\n{log}")
    print("kiln serve CUDA shared memory: HTTP and gRPC, inputs and outputs in GPU memory, CPU refusal: OK")


if __name__ == "__main__":
    main()
