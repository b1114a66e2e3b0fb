#include "kiln/transfer_tensor.h"

#include <memory>

#include "backends/registry/registry.h"

namespace kiln {

Tensor allocate_transfer_tensor(DType dtype, const Shape& shape) {
  const backends::Device* device = backends::device_for(backends::DeviceKind::kCuda);
  const size_t bytes = static_cast<size_t>(shape.numel()) * dtype_size(dtype);
  if (device == nullptr || dtype == DType::kBytes || bytes == 0) return Tensor(dtype, shape);
  Result<void*> memory = device->allocate_staging(bytes);
  if (!memory.ok()) return Tensor(dtype, shape);  // page-locked memory is a speed-up, not a need
  std::shared_ptr<void> owner(*memory, [device](void* p) { device->release_staging(p); });
  return Tensor::wrap(dtype, shape, std::move(owner), *memory);
}

}  // namespace kiln

namespace kiln {

bool lock_transfer_memory(void* data, size_t bytes) {
  const backends::Device* device = backends::device_for(backends::DeviceKind::kCuda);
  return device != nullptr && bytes > 0 && device->page_lock(data, bytes);
}

void unlock_transfer_memory(void* data) {
  if (const backends::Device* device = backends::device_for(backends::DeviceKind::kCuda)) device->page_unlock(data);
}

}  // namespace kiln
