#include "backends/host_device.h"

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <new>

namespace kiln::backends {
namespace {

// Wide enough for AVX-512 loads and oneDNN's preferred alignment.
constexpr size_t kHostAlignment = 64;

struct HostEvent {
  std::chrono::steady_clock::time_point at;
};

class HostDevice final : public Device {
 public:
  DeviceKind kind() const override { return DeviceKind::kHost; }
  std::string name() const override { return arch() + " CPU"; }
  std::string arch() const override {
#if defined(__x86_64__)
    return "x86_64";
#elif defined(__aarch64__)
    return "aarch64";
#else
    return "unknown";
#endif
  }

  Result<void*> allocate(size_t bytes) const override {
    const size_t rounded = (bytes + kHostAlignment - 1) / kHostAlignment * kHostAlignment;
    void* p = std::aligned_alloc(kHostAlignment, rounded == 0 ? kHostAlignment : rounded);
    if (!p) return resource_exhausted("host allocation of " + std::to_string(bytes) + " bytes failed");
    return p;
  }
  void release(void* ptr) const override { std::free(ptr); }
  Result<void*> allocate_staging(size_t bytes) const override { return allocate(bytes); }
  void release_staging(void* ptr) const override { release(ptr); }

  Status copy_to_device(void* dst, const void* src, size_t bytes, void*) const override { return copy(dst, src, bytes); }
  Status copy_to_host(void* dst, const void* src, size_t bytes, void*) const override { return copy(dst, src, bytes); }
  Status copy_on_device(void* dst, const void* src, size_t bytes, void*) const override { return copy(dst, src, bytes); }
  Status fill(void* dst, uint8_t byte, size_t bytes, void*) const override {
    if (bytes) std::memset(dst, byte, bytes);
    return {};
  }

  Result<void*> create_stream() const override { return static_cast<void*>(nullptr); }
  void destroy_stream(void*) const override {}
  Status synchronize(void*) const override { return {}; }

  Result<void*> create_event() const override { return static_cast<void*>(new HostEvent); }
  void destroy_event(void* event) const override { delete static_cast<HostEvent*>(event); }
  Status record_event(void* event, void*) const override {
    static_cast<HostEvent*>(event)->at = std::chrono::steady_clock::now();
    return {};
  }
  Result<double> elapsed_ms(void* start, void* end) const override {
    return std::chrono::duration<double, std::milli>(static_cast<HostEvent*>(end)->at -
                                                     static_cast<HostEvent*>(start)->at)
        .count();
  }

 private:
  static Status copy(void* dst, const void* src, size_t bytes) {
    if (bytes) std::memmove(dst, src, bytes);
    return {};
  }
};

}  // namespace

const Device& host_device() {
  static const HostDevice device;
  return device;
}

}  // namespace kiln::backends
