#include "backends/cuda/device_buffer.h"

#include <string>
#include <utility>

#include "backends/cuda/cuda_status.h"

namespace kiln::cuda {

Result<DeviceBuffer> DeviceBuffer::allocate(size_t bytes) {
  DeviceBuffer buffer;
  if (bytes == 0) return buffer;
  KILN_RETURN_IF_ERROR(cuda_status(cudaMalloc(&buffer.data_, bytes), ("cudaMalloc of " + std::to_string(bytes) + " bytes").c_str()));
  buffer.bytes_ = bytes;
  return buffer;
}

DeviceBuffer::~DeviceBuffer() { release(); }

DeviceBuffer::DeviceBuffer(DeviceBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& other) noexcept {
  if (this != &other) {
    release();
    data_ = std::exchange(other.data_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
  }
  return *this;
}

void DeviceBuffer::release() {
  if (data_ != nullptr) (void)cudaFree(data_);  // a failing free at teardown has no one to report to
  data_ = nullptr;
  bytes_ = 0;
}

Status DeviceBuffer::copy_from_host(const void* host, size_t bytes) {
  if (bytes > bytes_) {
    return invalid_argument("DeviceBuffer::copy_from_host: " + std::to_string(bytes) + " bytes into a buffer of " + std::to_string(bytes_));
  }
  if (bytes == 0) return Status::ok_status();
  return cuda_status(cudaMemcpy(data_, host, bytes, cudaMemcpyHostToDevice), "cudaMemcpy host to device");
}

Status DeviceBuffer::copy_to_host(void* host, size_t bytes) const {
  if (bytes > bytes_) {
    return invalid_argument("DeviceBuffer::copy_to_host: " + std::to_string(bytes) + " bytes from a buffer of " + std::to_string(bytes_));
  }
  if (bytes == 0) return Status::ok_status();
  return cuda_status(cudaMemcpy(host, data_, bytes, cudaMemcpyDeviceToHost), "cudaMemcpy device to host");
}

}  // namespace kiln::cuda
