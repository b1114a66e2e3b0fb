#include "backends/device.h"

namespace kiln::backends {

Result<DeviceBuffer> DeviceBuffer::allocate(const Device& device, size_t bytes) {
  DeviceBuffer buffer;
  buffer.device_ = &device;
  buffer.bytes_ = bytes;
  if (bytes == 0) return buffer;
  KILN_ASSIGN_OR_RETURN(buffer.data_, device.allocate(bytes));
  return buffer;
}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& other) noexcept {
  if (this != &other) {
    reset();
    device_ = other.device_;
    data_ = other.data_;
    bytes_ = other.bytes_;
    other.data_ = nullptr;
    other.bytes_ = 0;
  }
  return *this;
}

void DeviceBuffer::reset() {
  if (data_ && device_) device_->release(data_);
  data_ = nullptr;
  bytes_ = 0;
}

}  // namespace kiln::backends
