// DeviceBuffer: one cudaMalloc'ed allocation, freed on destruction (move-only). Engines carve
// their activation arena out of one of these; tests and benches use them for inputs/outputs.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>

#include "kiln/status.h"

namespace kiln::cuda {

class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  static Result<DeviceBuffer> allocate(size_t bytes);
  ~DeviceBuffer();
  DeviceBuffer(DeviceBuffer&& other) noexcept;
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  void* data() { return data_; }
  const void* data() const { return data_; }
  size_t size() const { return bytes_; }

  // Synchronous copies of exactly `bytes` (at most size()).
  Status copy_from_host(const void* host, size_t bytes);
  Status copy_to_host(void* host, size_t bytes) const;

 private:
  void release();
  void* data_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace kiln::cuda
