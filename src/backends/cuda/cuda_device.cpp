#include "backends/cuda/cuda_device.h"

#include <cuda_runtime_api.h>

#include <cstring>

#include "backends/cuda/cuda_status.h"
#include "kiln/cuda_ipc.h"

namespace kiln::cuda {
namespace {

cudaStream_t as_stream(void* s) { return static_cast<cudaStream_t>(s); }
cudaEvent_t as_event(void* e) { return static_cast<cudaEvent_t>(e); }

class CudaGraphWork final : public backends::CapturedWork {
 public:
  CudaGraphWork(cudaGraph_t graph, cudaGraphExec_t exec) : graph_(graph), exec_(exec) {}
  ~CudaGraphWork() override {
    (void)cudaGraphExecDestroy(exec_);
    (void)cudaGraphDestroy(graph_);
  }
  Status replay(void* stream) const override { return cuda_status(cudaGraphLaunch(exec_, as_stream(stream)), "cudaGraphLaunch"); }

 private:
  cudaGraph_t graph_;
  cudaGraphExec_t exec_;
};

class CudaDevice final : public backends::Device {
 public:
  explicit CudaDevice(const cudaDeviceProp& props) : props_(props) {}

  backends::DeviceKind kind() const override { return backends::DeviceKind::kCuda; }
  std::string name() const override { return props_.name; }
  std::string arch() const override { return "sm_" + std::to_string(props_.major) + std::to_string(props_.minor); }

  Result<void*> allocate(size_t bytes) const override {
    void* p = nullptr;
    cudaError_t e = cudaMalloc(&p, bytes);
    if (e != cudaSuccess) {
      (void)cudaGetLastError();
      return resource_exhausted("cudaMalloc of " + std::to_string(bytes) + " bytes failed: " + cudaGetErrorString(e));
    }
    return p;
  }
  void release(void* ptr) const override { (void)cudaFree(ptr); }
  Result<void*> allocate_staging(size_t bytes) const override {
    void* p = nullptr;
    KILN_RETURN_IF_ERROR(cuda_status(cudaMallocHost(&p, bytes == 0 ? 1 : bytes), "cudaMallocHost"));
    return p;
  }
  void release_staging(void* ptr) const override { (void)cudaFreeHost(ptr); }
  MemoryKind memory_kind(const void* ptr) const override {
    cudaPointerAttributes attributes{};
    if (cudaPointerGetAttributes(&attributes, ptr) != cudaSuccess) {
      (void)cudaGetLastError();  // an unknown pointer is pageable memory, not a sticky error
      return MemoryKind::kPageable;
    }
    if (attributes.type == cudaMemoryTypeHost) return MemoryKind::kPageLocked;
    if (attributes.type == cudaMemoryTypeDevice) return MemoryKind::kDevice;
    return MemoryKind::kPageable;
  }

  static_assert(sizeof(cudaIpcMemHandle_t) == kCudaIpcHandleBytes, "kiln/cuda_ipc.h states the handle size");
  Result<void*> open_ipc_memory(const std::string& handle, int64_t device_id) const override {
    cudaIpcMemHandle_t ipc{};
    if (handle.size() != sizeof(ipc)) {
      return invalid_argument("a CUDA IPC memory handle has " + std::to_string(sizeof(ipc)) + " bytes; this one has " +
                              std::to_string(handle.size()));
    }
    int current = 0;
    KILN_RETURN_IF_ERROR(cuda_status(cudaGetDevice(&current), "cudaGetDevice"));
    if (device_id != current) {
      return invalid_argument("the handle is for GPU " + std::to_string(device_id) + " but this server runs on GPU " +
                              std::to_string(current));
    }
    std::memcpy(&ipc, handle.data(), sizeof(ipc));
    void* ptr = nullptr;
    const cudaError_t e = cudaIpcOpenMemHandle(&ptr, ipc, cudaIpcMemLazyEnablePeerAccess);
    if (e != cudaSuccess) {
      (void)cudaGetLastError();
      return invalid_argument(std::string("cudaIpcOpenMemHandle refused the handle: ") + cudaGetErrorString(e) +
                              " (is the allocating process alive, and the handle from cudaIpcGetMemHandle?)");
    }
    return ptr;
  }
  void close_ipc_memory(void* ptr) const override {
    if (cudaIpcCloseMemHandle(ptr) != cudaSuccess) (void)cudaGetLastError();
  }

  bool page_lock(void* ptr, size_t bytes) const override {
    if (cudaHostRegister(ptr, bytes, cudaHostRegisterDefault) == cudaSuccess) return true;
    (void)cudaGetLastError();  // pageable memory still works, through the staging copy
    return false;
  }
  void page_unlock(void* ptr) const override {
    if (cudaHostUnregister(ptr) != cudaSuccess) (void)cudaGetLastError();
  }

  Status copy_to_device(void* dst, const void* src, size_t bytes, void* stream) const override {
    return cuda_status(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, as_stream(stream)), "copy to device");
  }
  Status copy_to_host(void* dst, const void* src, size_t bytes, void* stream) const override {
    return cuda_status(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, as_stream(stream)), "copy to host");
  }
  Status copy_on_device(void* dst, const void* src, size_t bytes, void* stream) const override {
    return cuda_status(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, as_stream(stream)), "device copy");
  }
  Status fill(void* dst, uint8_t byte, size_t bytes, void* stream) const override {
    return cuda_status(cudaMemsetAsync(dst, byte, bytes, as_stream(stream)), "cudaMemsetAsync");
  }

  Result<void*> create_stream() const override {
    cudaStream_t s = nullptr;
    KILN_RETURN_IF_ERROR(cuda_status(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "cudaStreamCreate"));
    return static_cast<void*>(s);
  }
  void destroy_stream(void* stream) const override { (void)cudaStreamDestroy(as_stream(stream)); }
  Status synchronize(void* stream) const override {
    return cuda_status(cudaStreamSynchronize(as_stream(stream)), "cudaStreamSynchronize");
  }

  Result<void*> create_event() const override {
    cudaEvent_t e = nullptr;
    KILN_RETURN_IF_ERROR(cuda_status(cudaEventCreate(&e), "cudaEventCreate"));
    return static_cast<void*>(e);
  }
  void destroy_event(void* event) const override { (void)cudaEventDestroy(as_event(event)); }
  Status record_event(void* event, void* stream) const override {
    return cuda_status(cudaEventRecord(as_event(event), as_stream(stream)), "cudaEventRecord");
  }
  Result<double> elapsed_ms(void* start, void* end) const override {
    float ms = 0;
    KILN_RETURN_IF_ERROR(cuda_status(cudaEventElapsedTime(&ms, as_event(start), as_event(end)), "cudaEventElapsedTime"));
    return static_cast<double>(ms);
  }

  Result<std::unique_ptr<backends::CapturedWork>> capture(void* stream, const std::function<Status()>& enqueue) const override {
    // Thread-local mode: other threads' contexts keep launching while this one captures.
    KILN_RETURN_IF_ERROR(cuda_status(cudaStreamBeginCapture(as_stream(stream), cudaStreamCaptureModeThreadLocal),
                                     "cudaStreamBeginCapture"));
    Status enqueued = enqueue();
    cudaGraph_t graph = nullptr;
    cudaError_t ended = cudaStreamEndCapture(as_stream(stream), &graph);
    if (!enqueued.ok()) {
      if (graph) (void)cudaGraphDestroy(graph);
      return enqueued.with_context("capturing the CUDA graph");
    }
    KILN_RETURN_IF_ERROR(cuda_status(ended, "cudaStreamEndCapture"));
    cudaGraphExec_t exec = nullptr;
    cudaError_t instantiated = cudaGraphInstantiate(&exec, graph, 0);
    if (instantiated != cudaSuccess) {
      (void)cudaGraphDestroy(graph);
      return cuda_status(instantiated, "cudaGraphInstantiate");
    }
    return std::unique_ptr<backends::CapturedWork>(new CudaGraphWork(graph, exec));
  }

 private:
  cudaDeviceProp props_;
};

}  // namespace

const backends::Device* cuda_device() {
  static const backends::Device* device = []() -> const backends::Device* {
    if (cuda_device_count() == 0) return nullptr;
    cudaDeviceProp props{};
    if (cudaGetDeviceProperties(&props, 0) != cudaSuccess) {
      (void)cudaGetLastError();
      return nullptr;
    }
    return new CudaDevice(props);  // lives for the process: kernels may run until exit
  }();
  return device;
}

}  // namespace kiln::cuda
