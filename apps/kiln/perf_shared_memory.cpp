#include "perf_shared_memory.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "perf_clients.h"

namespace kiln::cli::perf {
namespace {

constexpr size_t kAlignment = 64;

size_t aligned(size_t n) { return (n + kAlignment - 1) / kAlignment * kAlignment; }

}  // namespace

Result<std::unique_ptr<SharedMemoryRegion>> SharedMemoryRegion::create(const std::vector<InputSpec>& inputs, size_t outputs,
                                                                       size_t output_bytes) {
  static std::atomic<int> next{0};
  std::unique_ptr<SharedMemoryRegion> region(new SharedMemoryRegion());
  region->name_ = "kiln-perf-" + std::to_string(::getpid()) + "-" + std::to_string(next++);
  region->key_ = "/" + region->name_;
  size_t at = 0;
  for (const InputSpec& in : inputs) {
    region->inputs_.push_back({at, in.bytes.size()});
    at += aligned(in.bytes.size());
  }
  for (size_t i = 0; i < outputs; ++i) {
    region->outputs_.push_back({at, output_bytes});
    at += aligned(output_bytes);
  }
  region->size_ = std::max<size_t>(at, 1);
  const int fd = ::shm_open(region->key_.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
  if (fd < 0) return internal_error("cannot create shared memory object " + region->key_ + ": " + std::strerror(errno));
  if (::ftruncate(fd, static_cast<off_t>(region->size_)) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    ::shm_unlink(region->key_.c_str());
    return internal_error("cannot size shared memory object " + region->key_ + ": " + why);
  }
  void* base = ::mmap(nullptr, region->size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ::close(fd);
  if (base == MAP_FAILED) {
    ::shm_unlink(region->key_.c_str());
    return internal_error("cannot map shared memory object " + region->key_ + ": " + std::strerror(errno));
  }
  region->base_ = base;
  for (size_t i = 0; i < inputs.size(); ++i)
    std::memcpy(static_cast<char*>(base) + region->inputs_[i].offset, inputs[i].bytes.data(), inputs[i].bytes.size());
  return region;
}

SharedMemoryRegion::~SharedMemoryRegion() {
  if (base_ != nullptr) ::munmap(base_, size_);
  ::shm_unlink(key_.c_str());
}

}  // namespace kiln::cli::perf
