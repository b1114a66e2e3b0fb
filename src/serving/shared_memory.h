// KServe's shared-memory extensions (Triton's): clients register POSIX shared-memory objects
// (shm_open keys; "system") or GPU allocations (CUDA IPC handles; "cuda") under region names, then
// name a region, offset and byte size instead of sending an input's bytes or receiving an
// output's. Input tensors are views of the mapping (no copy; a CUDA region's are device memory,
// which only GPU models accept); outputs are copied into it. A mapping lives as long as a request
// using it, so unregistering a region in use never pulls memory from under an inference. System
// and CUDA regions share one namespace of names, as in Triton.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "kiln/status.h"
#include "kiln/tensor.h"

namespace kiln::serving {

struct SharedMemoryRegionStatus {
  std::string name;
  std::string key;
  uint64_t offset = 0;
  uint64_t byte_size = 0;
};

struct CudaSharedMemoryRegionStatus {
  std::string name;
  int64_t device_id = 0;
  uint64_t byte_size = 0;
};

// The parameters that place one tensor in a region (shared_memory_region/_offset/_byte_size).
struct SharedMemoryRef {
  std::string region;
  uint64_t offset = 0;
  uint64_t byte_size = 0;
};

// A resolved place: `data` points at byte_size bytes that stay mapped while `mapping` lives.
struct SharedMemorySpan {
  SharedMemoryRef ref;
  std::shared_ptr<void> mapping;
  unsigned char* data = nullptr;
  bool on_device = false;  // a CUDA region: `data` is GPU memory
};

class SharedMemoryRegistry {
 public:
  // allowed=false: registration is refused (kiln serve --allow-client-shm turns it on).
  explicit SharedMemoryRegistry(bool allowed) : allowed_(allowed) {}
  bool allowed() const { return allowed_; }

  // Maps [offset, offset + byte_size) of the object shm_open(key) names.
  Status register_region(const std::string& name, const std::string& key, uint64_t offset, uint64_t byte_size);
  // An empty name unregisters every system region.
  Status unregister_region(const std::string& name);
  // Every system region, or only `name` (NOT_FOUND when it is not a registered system region).
  Result<std::vector<SharedMemoryRegionStatus>> status(const std::string& name) const;

  // Opens the GPU allocation a serialized cudaIpcMemHandle_t names (kiln/cuda_ipc.h).
  Status register_cuda_region(const std::string& name, const std::string& raw_handle, int64_t device_id, uint64_t byte_size);
  // An empty name unregisters every CUDA region.
  Status unregister_cuda_region(const std::string& name);
  Result<std::vector<CudaSharedMemoryRegionStatus>> cuda_status(const std::string& name) const;

  Result<SharedMemorySpan> resolve(const SharedMemoryRef& ref) const;

 private:
  struct Region {
    SharedMemoryRegionStatus status;
    bool on_device = false;
    int64_t device_id = 0;
    std::shared_ptr<void> mapping;  // munmaps when the last request using it is done
    unsigned char* data = nullptr;
  };
  const bool allowed_;
  mutable std::mutex mutex_;
  std::map<std::string, Region> regions_;

  Status check_new_name(const std::string& name) const;  // mutex_ not held
  Status unregister_kind(const std::string& name, bool on_device);
};

// An input tensor over `span` (a view: no copy). byte_size must be the tensor's size exactly.
Result<Tensor> shared_memory_tensor(const std::string& input, DType dtype, const Shape& shape, const SharedMemorySpan& span);
// Copies an output's bytes into `span`; an error when they do not fit.
Status write_shared_memory_output(const std::string& output, const Tensor& tensor, const SharedMemorySpan& span);

}  // namespace kiln::serving
