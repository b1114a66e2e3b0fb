"""kiln serve's system shared-memory extension (KServe/Triton) over HTTP and gRPC (and the CUDA
extension's endpoints and errors, which need no GPU): regions
registered, listed and unregistered; inputs read from a region and outputs written into one,
checked against numpy on fresh random data; inputs mixing shared memory with JSON data and raw
contents; a region unregistered while a request that uses it waits in the queue; bad requests
get clear errors while the server keeps serving; registration refused without --allow-client-shm.

usage: serve_shared_memory_test.py KILN_BINARY SOURCE_DIR PROTOC GRPC_PYTHON_PLUGIN
"""
import concurrent.futures
import sys
import tempfile
import time
from multiprocessing import shared_memory

import grpc
import numpy as np

from serve_test_util import HOST, KilnServer, check, generate_stubs, http_request, make_repository, reference_affine

REGION_BYTES = 4096


def shm_key(block):
    return "/" + block.name.lstrip("/")


def read_f32(block, offset, shape):
    count = int(np.prod(shape))
    return np.frombuffer(block.buf, dtype="<f4", count=count, offset=offset).reshape(shape).copy()


def write(block, offset, array):
    data = array.tobytes()
    block.buf[offset:offset + len(data)] = data


def expect_http_error(port, method, path, body, status, words, what):
    code, answer = http_request(port, method, path, body)
    check(code == status, f"{what}: expected HTTP {status}, got {code}: {answer}")
    message = (answer or {}).get("error", "")
    check(words in message, f"{what}: {message!r} does not mention {words!r}")


def affine_shm_request(in_offset, out_offset, in_region="in", out_region="out", in_size=32, out_size=32):
    return {"inputs": [{"name": "x", "shape": [2, 4], "datatype": "FP32",
                        "parameters": {"shared_memory_region": in_region, "shared_memory_offset": in_offset,
                                       "shared_memory_byte_size": in_size}}],
            "outputs": [{"name": "y", "parameters": {"shared_memory_region": out_region, "shared_memory_offset": out_offset,
                                                     "shared_memory_byte_size": out_size}}]}


def check_http(server, inputs, outputs, rng):
    port = server.http_port
    code, meta = http_request(port, "GET", "/v2")
    check(code == 200 and "system_shared_memory" in meta["extensions"], f"server metadata: {meta}")
    for name, block in (("in", inputs), ("out", outputs)):
        code, answer = http_request(port, "POST", f"/v2/systemsharedmemory/region/{name}/register",
                                    {"key": shm_key(block), "offset": 0, "byte_size": REGION_BYTES})
        check(code == 200, f"register {name}: {code} {answer}")
    code, regions = http_request(port, "GET", "/v2/systemsharedmemory/status")
    check(code == 200 and sorted(r["name"] for r in regions) == ["in", "out"], f"status: {regions}")
    code, regions = http_request(port, "GET", "/v2/systemsharedmemory/region/in/status")
    check(code == 200 and regions == [{"name": "in", "key": shm_key(inputs), "offset": 0, "byte_size": REGION_BYTES}],
          f"status of 'in': {regions}")

    # Fresh data each time, at several offsets: an answer from stale memory would not match.
    for in_offset, out_offset in ((0, 0), (128, 64), (1024, 2048)):
        x = rng.standard_normal((2, 4)).astype(np.float32)
        write(inputs, in_offset, x)
        write(outputs, out_offset, np.full((2, 4), np.nan, np.float32))
        code, answer = http_request(port, "POST", "/v2/models/affine/infer", affine_shm_request(in_offset, out_offset))
        check(code == 200, f"infer from shared memory: {code} {answer}")
        out = answer["outputs"][0]
        check("data" not in out, f"an output in shared memory has no data in the response: {out}")
        check(out["parameters"]["shared_memory_region"] == "out" and out["parameters"]["shared_memory_byte_size"] == 32,
              f"output parameters: {out}")
        got = read_f32(outputs, out_offset, (2, 4))
        check(np.allclose(got, reference_affine(x), atol=1e-6), f"HTTP shared-memory output {got} != {reference_affine(x)}")

    # One input in shared memory, the other in the JSON; the output in the JSON.
    a = rng.integers(-1000, 1000, 3).astype(np.int32)
    b = rng.integers(-1000, 1000, 3).astype(np.int32)
    inputs.buf[512:524] = a.tobytes()
    code, answer = http_request(port, "POST", "/v2/models/add_int/infer", {
        "inputs": [{"name": "a", "shape": [3], "datatype": "INT32",
                    "parameters": {"shared_memory_region": "in", "shared_memory_offset": 512, "shared_memory_byte_size": 12}},
                   {"name": "b", "shape": [3], "datatype": "INT32", "data": b.tolist()}]})
    check(code == 200 and answer["outputs"][0]["data"] == (a + b).tolist(), f"mixed inputs: {code} {answer}")

    infer = "/v2/models/affine/infer"
    expect_http_error(port, "POST", infer, affine_shm_request(0, 0, in_region="nowhere"), 404, "nowhere", "unknown region")
    expect_http_error(port, "POST", infer, affine_shm_request(0, 0, in_size=16), 400, "needs 32 bytes", "byte size mismatch")
    expect_http_error(port, "POST", infer, affine_shm_request(REGION_BYTES - 16, 0), 400, "reaches past", "span past the region")
    expect_http_error(port, "POST", infer, affine_shm_request(0, 0, out_size=16), 400, "more than the 16", "output region too small")
    huge = affine_shm_request(0, 0)
    huge["inputs"][0]["shape"] = [2 ** 32, 2 ** 32, 2]
    expect_http_error(port, "POST", infer, huge, 400, "overflows", "an element count past int64")
    only_region = affine_shm_request(0, 0)
    del only_region["inputs"][0]["parameters"]["shared_memory_byte_size"]
    expect_http_error(port, "POST", infer, only_region, 400, "needs both", "region without byte size")
    with_data = affine_shm_request(0, 0)
    with_data["inputs"][0]["data"] = [0.0] * 8
    expect_http_error(port, "POST", infer, with_data, 400, "both 'data'", "data and shared memory")
    register = "/v2/systemsharedmemory/region/bad/register"
    expect_http_error(port, "POST", register, {"key": "/../etc/passwd", "byte_size": 16}, 400, "POSIX shared-memory name",
                      "a key that is a path")
    expect_http_error(port, "POST", register, {"key": "/kiln-no-such-object", "byte_size": 16}, 404, "cannot be opened",
                      "a key with no object")
    expect_http_error(port, "POST", register, {"key": shm_key(inputs), "offset": REGION_BYTES, "byte_size": 16}, 400,
                      "holds", "a region past the object's end")
    expect_http_error(port, "POST", register, {"byte_size": 16}, 400, "'key'", "no key")
    expect_http_error(port, "POST", "/v2/systemsharedmemory/region/in/register",
                      {"key": shm_key(inputs), "byte_size": 16}, 400, "already registered", "a name twice")
    expect_http_error(port, "POST", "/v2/cudasharedmemory/region/g/register", {}, 400, "raw_handle", "CUDA shm register without a handle")
    check(server.alive() and server.answers_ok("/v2/health/live"), "the server stopped serving after bad shm requests")

    code, _ = http_request(port, "POST", "/v2/systemsharedmemory/region/in/unregister")
    check(code == 200, f"unregister 'in': {code}")
    expect_http_error(port, "GET", "/v2/systemsharedmemory/region/in/status", None, 404, "not registered", "status after unregister")
    expect_http_error(port, "POST", infer, affine_shm_request(0, 0), 404, "'in'", "infer from an unregistered region")
    code, _ = http_request(port, "POST", "/v2/systemsharedmemory/unregister")
    code, regions = http_request(port, "GET", "/v2/systemsharedmemory/status")
    check(code == 200 and regions == [], f"status after unregistering all: {regions}")


def check_unregister_while_queued(server, inputs, outputs, rng):
    """scale waits up to 1 s for a batch: unregistering both regions meanwhile must not pull the
    memory from under the request, which completes with the right answer in the client's object."""
    port = server.http_port
    for name, block in (("qin", inputs), ("qout", outputs)):
        code, answer = http_request(port, "POST", f"/v2/systemsharedmemory/region/{name}/register",
                                    {"key": shm_key(block), "byte_size": REGION_BYTES})
        check(code == 200, f"register {name}: {answer}")
    x = rng.standard_normal((1, 4)).astype(np.float32)
    write(inputs, 256, x)
    body = {"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP32",
                        "parameters": {"shared_memory_region": "qin", "shared_memory_offset": 256, "shared_memory_byte_size": 16}}],
            "outputs": [{"name": "y", "parameters": {"shared_memory_region": "qout", "shared_memory_offset": 512,
                                                     "shared_memory_byte_size": 16}}]}
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        started = time.monotonic()
        pending = pool.submit(http_request, port, "POST", "/v2/models/scale/infer", body)
        time.sleep(0.3)
        code, _ = http_request(port, "POST", "/v2/systemsharedmemory/unregister")
        check(code == 200, "unregister all while a request waits")
        check(not pending.done(), "the scale request should still be queued (1 s batching delay)")
        code, answer = pending.result(timeout=30)
        check(time.monotonic() - started > 0.3, "the request did not wait in the queue")
    check(code == 200, f"the queued request failed after its regions were unregistered: {code} {answer}")
    got = read_f32(outputs, 512, (1, 4))
    check(np.allclose(got, 2 * x), f"queued shared-memory output {got} != {2 * x}")


def check_grpc(server, pb, stub, inputs, outputs, rng):
    for name, block in (("gin", inputs), ("gout", outputs)):
        stub.SystemSharedMemoryRegister(pb.SystemSharedMemoryRegisterRequest(name=name, key=shm_key(block), offset=0,
                                                                             byte_size=REGION_BYTES))
    status = stub.SystemSharedMemoryStatus(pb.SystemSharedMemoryStatusRequest())
    check(sorted(status.regions.keys()) == ["gin", "gout"] and status.regions["gin"].key == shm_key(inputs) and
          status.regions["gin"].byte_size == REGION_BYTES, f"gRPC status: {status}")
    for in_offset, out_offset in ((0, 0), (64, 256)):
        x = rng.standard_normal((2, 4)).astype(np.float32)
        write(inputs, in_offset, x)
        request = pb.ModelInferRequest(model_name="affine")
        tensor = request.inputs.add(name="x", datatype="FP32", shape=[2, 4])
        tensor.parameters["shared_memory_region"].string_param = "gin"
        tensor.parameters["shared_memory_offset"].int64_param = in_offset
        tensor.parameters["shared_memory_byte_size"].int64_param = 32
        out = request.outputs.add(name="y")
        out.parameters["shared_memory_region"].string_param = "gout"
        out.parameters["shared_memory_offset"].int64_param = out_offset
        out.parameters["shared_memory_byte_size"].int64_param = 32
        response = stub.ModelInfer(request)
        check(len(response.raw_output_contents) == 0, "an output in shared memory has no raw_output_contents")
        check(response.outputs[0].parameters["shared_memory_region"].string_param == "gout", f"{response.outputs[0]}")
        got = read_f32(outputs, out_offset, (2, 4))
        check(np.allclose(got, reference_affine(x), atol=1e-6), f"gRPC shared-memory output {got} != {reference_affine(x)}")

    # a in shared memory, b raw: raw_input_contents then holds one entry, b's.
    a = rng.integers(-1000, 1000, 3).astype(np.int32)
    b = rng.integers(-1000, 1000, 3).astype(np.int32)
    inputs.buf[1024:1036] = a.tobytes()
    request = pb.ModelInferRequest(model_name="add_int")
    first = request.inputs.add(name="a", datatype="INT32", shape=[3])
    first.parameters["shared_memory_region"].string_param = "gin"
    first.parameters["shared_memory_offset"].int64_param = 1024
    first.parameters["shared_memory_byte_size"].int64_param = 12
    request.inputs.add(name="b", datatype="INT32", shape=[3])
    request.raw_input_contents.append(b.tobytes())
    response = stub.ModelInfer(request)
    got = np.frombuffer(response.raw_output_contents[0], dtype=np.int32)
    check(np.array_equal(got, a + b), f"gRPC mixed inputs: {got} != {a + b}")

    bad = pb.ModelInferRequest(model_name="affine")
    tensor = bad.inputs.add(name="x", datatype="FP32", shape=[2, 4])
    tensor.parameters["shared_memory_region"].string_param = "nowhere"
    tensor.parameters["shared_memory_byte_size"].int64_param = 32
    try:
        stub.ModelInfer(bad)
        raise AssertionError("gRPC infer from an unknown region succeeded")
    except grpc.RpcError as e:
        check(e.code() == grpc.StatusCode.NOT_FOUND and "nowhere" in e.details(), f"unknown region: {e.code()} {e.details()}")
    stub.SystemSharedMemoryUnregister(pb.SystemSharedMemoryUnregisterRequest(name="gin"))
    status = stub.SystemSharedMemoryStatus(pb.SystemSharedMemoryStatusRequest())
    check(list(status.regions.keys()) == ["gout"], f"gRPC status after unregistering gin: {status}")
    stub.SystemSharedMemoryUnregister(pb.SystemSharedMemoryUnregisterRequest())
    check(len(stub.SystemSharedMemoryStatus(pb.SystemSharedMemoryStatusRequest()).regions) == 0, "regions left after unregister all")


def check_cuda_registry(server, pb, stub):
    """KServe's CUDA shared-memory endpoints without a GPU client: listing, unregistering, and
    registrations that must fail naming why (a real IPC handle is tested on the GPU machine by
    serve_cuda_shared_memory_test.py). On a server without a CUDA device a well-formed handle is
    refused as needing a GPU; on one with a GPU, as a handle the driver does not know."""
    import base64
    port = server.http_port
    code, meta = http_request(port, "GET", "/v2")
    check(code == 200 and "cuda_shared_memory" in meta["extensions"], f"server metadata: {meta}")
    code, regions = http_request(port, "GET", "/v2/cudasharedmemory/status")
    check(code == 200 and regions == [], f"CUDA status: {code} {regions}")
    expect_http_error(port, "GET", "/v2/cudasharedmemory/region/nope/status", None, 404, "not registered", "status of an unknown region")
    base = "/v2/cudasharedmemory/region/gpu/register"
    expect_http_error(port, "POST", base, {"raw_handle": {"b64": "not base64!"}, "device_id": 0, "byte_size": 64}, 400, "base64",
                      "a handle that is not base64")
    short = base64.b64encode(b"\x01" * 10).decode()
    expect_http_error(port, "POST", base, {"raw_handle": {"b64": short}, "device_id": 0, "byte_size": 64}, 400, "64",
                      "a handle of the wrong size")
    handle = base64.b64encode(bytes(range(64))).decode()
    expect_http_error(port, "POST", base, {"raw_handle": {"b64": handle}, "device_id": -1, "byte_size": 64}, 400, "device_id",
                      "a negative device id")
    expect_http_error(port, "POST", base, {"raw_handle": handle, "device_id": 0, "byte_size": 64}, 400, "b64",
                      "raw_handle not an object")
    code, answer = http_request(port, "POST", base, {"raw_handle": {"b64": handle}, "device_id": 0, "byte_size": 64})
    message = (answer or {}).get("error", "")
    check(code in (400, 503) and ("needs a GPU" in message or "cudaIpcOpenMemHandle" in message),
          f"a handle no process made: HTTP {code} {message!r}")
    code, regions = http_request(port, "GET", "/v2/cudasharedmemory/status")
    check(code == 200 and regions == [], f"a refused registration left a region: {regions}")
    code, _ = http_request(port, "POST", "/v2/cudasharedmemory/region/gpu/unregister", {})
    check(code == 200, f"unregistering an unknown CUDA region: {code}")
    # An input naming a CUDA region that is not registered.
    expect_http_error(port, "POST", "/v2/models/affine/infer", affine_shm_request(0, 0, in_region="gpu", out_region="gpu"), 404,
                      "not registered", "an input in an unregistered CUDA region")
    # gRPC: the same service Triton's clients call.
    check(len(stub.CudaSharedMemoryStatus(pb.CudaSharedMemoryStatusRequest()).regions) == 0, "gRPC CUDA status not empty")
    for raw, words in ((b"\x00" * 10, "64"), (bytes(range(64)), "")):
        try:
            stub.CudaSharedMemoryRegister(pb.CudaSharedMemoryRegisterRequest(name="g", raw_handle=raw, device_id=0, byte_size=64))
            raise AssertionError("gRPC CudaSharedMemoryRegister of a bad handle succeeded")
        except grpc.RpcError as e:
            check(e.code() in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.UNAVAILABLE) and words in e.details(),
                  f"gRPC register of a bad handle: {e.code()} {e.details()}")
    stub.CudaSharedMemoryUnregister(pb.CudaSharedMemoryUnregisterRequest())
    try:
        stub.CudaSharedMemoryStatus(pb.CudaSharedMemoryStatusRequest(name="g"))
        raise AssertionError("gRPC status of an unknown CUDA region succeeded")
    except grpc.RpcError as e:
        check(e.code() == grpc.StatusCode.NOT_FOUND, f"gRPC status of an unknown region: {e.code()}")


def check_refused_without_flag(kiln, repository, pb, pb_grpc, inputs):
    server = KilnServer(kiln, ["--model-repository", repository])
    try:
        expect_http_error(server.http_port, "POST", "/v2/systemsharedmemory/region/r/register",
                          {"key": shm_key(inputs), "byte_size": 16}, 503, "--allow-client-shm", "HTTP register without the flag")
        stub = pb_grpc.GRPCInferenceServiceStub(grpc.insecure_channel(f"{HOST}:{server.grpc_port}"))
        try:
            stub.SystemSharedMemoryRegister(pb.SystemSharedMemoryRegisterRequest(name="r", key=shm_key(inputs), byte_size=16))
            raise AssertionError("gRPC register succeeded without --allow-client-shm")
        except grpc.RpcError as e:
            check(e.code() == grpc.StatusCode.UNAVAILABLE and "--allow-client-shm" in e.details(), f"{e.code()} {e.details()}")
    finally:
        code, log = server.stop()
    check(code == 0, f"kiln serve exited with {code}:\n{log}")


def main():
    kiln, source_dir, protoc, plugin = sys.argv[1:5]
    rng = np.random.default_rng(20261202)
    with tempfile.TemporaryDirectory() as work:
        generate_stubs(source_dir, protoc, plugin, work)
        import grpc_service_pb2 as pb
        import grpc_service_pb2_grpc as pb_grpc
        repository = f"{work}/models"
        make_repository(repository)
        inputs = shared_memory.SharedMemory(create=True, size=REGION_BYTES)
        outputs = shared_memory.SharedMemory(create=True, size=REGION_BYTES)
        try:
            server = KilnServer(kiln, ["--model-repository", repository, "--allow-client-shm"])
            try:
                check_http(server, inputs, outputs, rng)
                check_unregister_while_queued(server, inputs, outputs, rng)
                stub = pb_grpc.GRPCInferenceServiceStub(grpc.insecure_channel(f"{HOST}:{server.grpc_port}"))
                check_grpc(server, pb, stub, inputs, outputs, rng)
                check_cuda_registry(server, pb, stub)
                check(server.alive(), "kiln serve died")
            finally:
                code, log = server.stop()
            check(code == 0, f"kiln serve exited with {code}:\n{log}")
            check_refused_without_flag(kiln, repository, pb, pb_grpc, inputs)
        finally:
            for block in (inputs, outputs):
                block.close()
                block.unlink()
    print("kiln serve shared memory: HTTP and gRPC regions, inputs and outputs, errors, refusal without the flag: OK")


if __name__ == "__main__":
    main()
