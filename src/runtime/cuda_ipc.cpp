#include "kiln/cuda_ipc.h"

#include "backends/registry/registry.h"

namespace kiln {
namespace {

const backends::Device* cuda_device() { return backends::device_for(backends::DeviceKind::kCuda); }

}  // namespace

Result<std::shared_ptr<void>> open_cuda_ipc_memory(const std::string& handle, int64_t device_id) {
  const backends::Device* device = cuda_device();
  if (device == nullptr) return unavailable("CUDA shared memory needs a GPU, and this server has no CUDA device");
  KILN_ASSIGN_OR_RETURN(void* ptr, device->open_ipc_memory(handle, device_id));
  return std::shared_ptr<void>(ptr, [device](void* p) { device->close_ipc_memory(p); });
}

bool is_cuda_device_memory(const void* ptr) {
  const backends::Device* device = cuda_device();
  return device != nullptr && device->memory_kind(ptr) == backends::Device::MemoryKind::kDevice;
}

Status copy_host_to_cuda_memory(void* device_dst, const void* host_src, size_t bytes) {
  const backends::Device* device = cuda_device();
  if (device == nullptr) return unavailable("no CUDA device to copy to");
  KILN_RETURN_IF_ERROR(device->copy_to_device(device_dst, host_src, bytes, nullptr));
  return device->synchronize(nullptr);
}

}  // namespace kiln
