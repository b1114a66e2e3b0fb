#include "serving/shared_memory.h"

#include <cerrno>
#include <cstring>
#include <optional>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kiln/cuda_ipc.h"
#include "kiln/transfer_tensor.h"

namespace kiln::serving {
namespace {

std::string describe(const SharedMemoryRef& ref) {
  return "shared memory region '" + ref.region + "' (offset " + std::to_string(ref.offset) + ", " +
         std::to_string(ref.byte_size) + " bytes)";
}

// A key names an object in the shared-memory namespace, never a path: "/name" with no other '/'.
bool valid_key(const std::string& key) {
  return key.size() > 1 && key.size() < 256 && key[0] == '/' && key.find('/', 1) == std::string::npos;
}

}  // namespace

Status SharedMemoryRegistry::register_region(const std::string& name, const std::string& key, uint64_t offset, uint64_t byte_size) {
  KILN_RETURN_IF_ERROR(check_new_name(name));
  if (!valid_key(key))
    return invalid_argument("shared memory key '" + key + "' must be a POSIX shared-memory name: '/' and then no other '/'");
  if (byte_size == 0) return invalid_argument("shared memory region '" + name + "': byte_size must be positive");
  uint64_t end = 0;
  if (__builtin_add_overflow(offset, byte_size, &end)) return invalid_argument("shared memory region '" + name + "': offset + byte_size overflows");
  const int fd = ::shm_open(key.c_str(), O_RDWR, 0);
  if (fd < 0) return not_found("shared memory key '" + key + "' cannot be opened: " + std::strerror(errno));
  struct stat info {};
  if (::fstat(fd, &info) != 0 || static_cast<uint64_t>(info.st_size) < end) {
    const int64_t size = info.st_size;
    ::close(fd);
    return invalid_argument("shared memory key '" + key + "' holds " + std::to_string(size) + " bytes, less than offset " +
                            std::to_string(offset) + " + byte_size " + std::to_string(byte_size));
  }
  void* base = ::mmap(nullptr, end, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ::close(fd);
  if (base == MAP_FAILED) return internal_error("shared memory key '" + key + "' cannot be mapped: " + std::strerror(errno));
  Region region;
  region.status = {name, key, offset, byte_size};
  // Page-locked where a GPU exists: a batch of inputs in the region then goes to the device
  // straight from it (the execution context skips its staging copy), with no join in between.
  const bool locked = lock_transfer_memory(base, end);
  region.mapping = std::shared_ptr<void>(base, [end, locked](void* p) {
    if (locked) unlock_transfer_memory(p);
    ::munmap(p, end);
  });
  region.data = static_cast<unsigned char*>(base) + offset;
  std::lock_guard<std::mutex> lock(mutex_);
  if (!regions_.emplace(name, std::move(region)).second)
    return invalid_argument("shared memory region '" + name + "' is already registered");
  return {};
}

Status SharedMemoryRegistry::unregister_kind(const std::string& name, bool on_device) {
  std::lock_guard<std::mutex> lock(mutex_);
  // Unregistering an unknown region succeeds, as Triton answers: the client's intent holds.
  for (auto it = regions_.begin(); it != regions_.end();) {
    const bool match = it->second.on_device == on_device && (name.empty() || it->first == name);
    it = match ? regions_.erase(it) : std::next(it);
  }
  return {};
}

Status SharedMemoryRegistry::unregister_region(const std::string& name) { return unregister_kind(name, false); }
Status SharedMemoryRegistry::unregister_cuda_region(const std::string& name) { return unregister_kind(name, true); }

Result<std::vector<SharedMemoryRegionStatus>> SharedMemoryRegistry::status(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<SharedMemoryRegionStatus> out;
  for (const auto& [region_name, region] : regions_) {
    if (!region.on_device && (name.empty() || region_name == name)) out.push_back(region.status);
  }
  if (!name.empty() && out.empty()) return not_found("system shared memory region '" + name + "' is not registered");
  return out;
}

Result<std::vector<CudaSharedMemoryRegionStatus>> SharedMemoryRegistry::cuda_status(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<CudaSharedMemoryRegionStatus> out;
  for (const auto& [region_name, region] : regions_) {
    if (region.on_device && (name.empty() || region_name == name)) out.push_back({region_name, region.device_id, region.status.byte_size});
  }
  if (!name.empty() && out.empty()) return not_found("CUDA shared memory region '" + name + "' is not registered");
  return out;
}

Status SharedMemoryRegistry::check_new_name(const std::string& name) const {
  if (!allowed_)
    return unavailable("client shared memory is off on this server (start kiln serve with --allow-client-shm)");
  if (name.empty()) return invalid_argument("a shared memory region needs a name");
  std::lock_guard<std::mutex> lock(mutex_);
  if (regions_.count(name)) return invalid_argument("shared memory region '" + name + "' is already registered");
  return {};
}

Status SharedMemoryRegistry::register_cuda_region(const std::string& name, const std::string& raw_handle, int64_t device_id,
                                                 uint64_t byte_size) {
  KILN_RETURN_IF_ERROR(check_new_name(name));
  if (byte_size == 0) return invalid_argument("CUDA shared memory region '" + name + "': byte_size must be positive");
  if (raw_handle.size() != kCudaIpcHandleBytes) {
    return invalid_argument("CUDA shared memory region '" + name + "': raw_handle has " + std::to_string(raw_handle.size()) +
                            " bytes; a serialized cudaIpcMemHandle_t has " + std::to_string(kCudaIpcHandleBytes));
  }
  if (device_id < 0) return invalid_argument("CUDA shared memory region '" + name + "': device_id must not be negative");
  Result<std::shared_ptr<void>> memory = open_cuda_ipc_memory(raw_handle, device_id);
  if (!memory.ok()) return Status(memory.status().code(), "CUDA shared memory region '" + name + "': " + memory.status().message());
  Region region;
  region.status = {name, "", 0, byte_size};
  region.on_device = true;
  region.device_id = device_id;
  region.data = static_cast<unsigned char*>(memory->get());
  region.mapping = std::move(memory).value();
  std::lock_guard<std::mutex> lock(mutex_);
  if (!regions_.emplace(name, std::move(region)).second)
    return invalid_argument("shared memory region '" + name + "' is already registered");
  return {};
}

Result<SharedMemorySpan> SharedMemoryRegistry::resolve(const SharedMemoryRef& ref) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = regions_.find(ref.region);
  if (it == regions_.end()) return not_found("shared memory region '" + ref.region + "' is not registered");
  const Region& region = it->second;
  uint64_t end = 0;
  if (__builtin_add_overflow(ref.offset, ref.byte_size, &end) || end > region.status.byte_size)
    return invalid_argument(describe(ref) + " reaches past the region's " + std::to_string(region.status.byte_size) + " bytes");
  return SharedMemorySpan{ref, region.mapping, region.data + ref.offset, region.on_device};
}

Result<Tensor> shared_memory_tensor(const std::string& input, DType dtype, const Shape& shape, const SharedMemorySpan& span) {
  if (dtype == DType::kBytes) return unimplemented("input '" + input + "': BYTES inputs cannot come from shared memory yet");
  // Checked: this runs on a client's shape before anything else has counted its elements.
  const std::optional<int64_t> elements = shape.checked_numel();
  uint64_t expected = 0;
  if (!elements || __builtin_mul_overflow(static_cast<uint64_t>(*elements), dtype_size(dtype), &expected))
    return invalid_argument("input '" + input + "': shape " + shape.to_string() + " has a negative size or its byte size overflows");
  if (span.ref.byte_size != expected)
    return invalid_argument("input '" + input + "' of shape " + shape.to_string() + " needs " + std::to_string(expected) +
                            " bytes but shared_memory_byte_size is " + std::to_string(span.ref.byte_size));
  return Tensor::wrap(dtype, shape, span.mapping, span.data);
}

Status write_shared_memory_output(const std::string& output, const Tensor& tensor, const SharedMemorySpan& span) {
  if (tensor.dtype() == DType::kBytes) return unimplemented("output '" + output + "': BYTES outputs cannot go to shared memory yet");
  if (tensor.nbytes() > span.ref.byte_size)
    return invalid_argument("output '" + output + "' has " + std::to_string(tensor.nbytes()) + " bytes, more than the " +
                            std::to_string(span.ref.byte_size) + " of " + describe(span.ref));
  if (tensor.nbytes() == 0) return {};
  if (span.on_device) return copy_host_to_cuda_memory(span.data, tensor.raw_data(), tensor.nbytes());
  std::memcpy(span.data, tensor.raw_data(), tensor.nbytes());
  return {};
}

}  // namespace kiln::serving
