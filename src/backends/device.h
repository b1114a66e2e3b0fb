// Device: the memory, streams, events and work capture of one DeviceKind, used by the runtime
// (arenas, constant upload, input/output staging, CUDA graphs) and by the builder (timing
// tactics). Backends compute; a Device only moves and owns memory. One Device object per kind
// (devices_for in registry.h); all methods are thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "backends/backend.h"
#include "kiln/status.h"

namespace kiln::backends {

// Work recorded once and replayed (a CUDA graph). Owns the captured graph.
class CapturedWork {
 public:
  virtual ~CapturedWork() = default;
  virtual Status replay(void* stream) const = 0;
};

class Device {
 public:
  virtual ~Device() = default;
  virtual DeviceKind kind() const = 0;
  // Human-readable ("NVIDIA H200", "host x86_64, 2 threads").
  virtual std::string name() const = 0;
  // What a plan must have been built for to run here ("sm_90", "x86_64"): plans are refused on
  // another architecture.
  virtual std::string arch() const = 0;

  virtual Result<void*> allocate(size_t bytes) const = 0;
  virtual void release(void* ptr) const = 0;
  // Host memory the device copies to and from fastest (page-locked for CUDA).
  virtual Result<void*> allocate_staging(size_t bytes) const = 0;
  virtual void release_staging(void* ptr) const = 0;
  // Where `ptr` lies, as far as copies to this device go: pageable host memory (the runtime
  // stages it), page-locked host memory (what allocate_staging returns; copied directly), or the
  // device's own memory (a buffer another process shared by CUDA IPC; copied device to device,
  // never touched from the host). One query, as each input is looked at on every run.
  enum class MemoryKind { kPageable, kPageLocked, kDevice };
  virtual MemoryKind memory_kind(const void* ptr) const {
    (void)ptr;
    return MemoryKind::kPageable;
  }
  // Page-locks existing host memory (a client's shared-memory region) so copies from it skip the
  // staging copy too; false where the device has no such notion or the lock failed.
  virtual bool page_lock(void* ptr, size_t bytes) const {
    (void)ptr;
    (void)bytes;
    return false;
  }
  // Undoes page_lock; call before the memory is unmapped.
  virtual void page_unlock(void* ptr) const { (void)ptr; }
  // Opens another process's device allocation from its IPC handle (KServe's CUDA shared memory);
  // close_ipc_memory undoes it. Devices without IPC say so.
  virtual Result<void*> open_ipc_memory(const std::string& handle, int64_t device_id) const {
    (void)handle;
    (void)device_id;
    return unimplemented("device '" + name() + "' cannot open CUDA IPC memory handles");
  }
  virtual void close_ipc_memory(void* ptr) const { (void)ptr; }

  // Asynchronous on `stream` where the device has streams; synchronous on the host.
  virtual Status copy_to_device(void* dst, const void* src, size_t bytes, void* stream) const = 0;
  virtual Status copy_to_host(void* dst, const void* src, size_t bytes, void* stream) const = 0;
  virtual Status copy_on_device(void* dst, const void* src, size_t bytes, void* stream) const = 0;
  virtual Status fill(void* dst, uint8_t byte, size_t bytes, void* stream) const = 0;

  virtual Result<void*> create_stream() const = 0;
  virtual void destroy_stream(void* stream) const = 0;
  virtual Status synchronize(void* stream) const = 0;

  // Events mark a point in a stream's work; elapsed_ms needs both to have completed.
  virtual Result<void*> create_event() const = 0;
  virtual void destroy_event(void* event) const = 0;
  virtual Status record_event(void* event, void* stream) const = 0;
  virtual Result<double> elapsed_ms(void* start, void* end) const = 0;

  // Records what `enqueue` puts on `stream` for replay. nullptr (not an error) when the device
  // cannot capture: the caller then enqueues directly each time.
  virtual Result<std::unique_ptr<CapturedWork>> capture(void* stream, const std::function<Status()>& enqueue) const {
    (void)stream;
    (void)enqueue;
    return std::unique_ptr<CapturedWork>();
  }
};

// Owns one device allocation; released through the device that made it.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  static Result<DeviceBuffer> allocate(const Device& device, size_t bytes);
  DeviceBuffer(DeviceBuffer&& other) noexcept { *this = std::move(other); }
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() { reset(); }

  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }
  void reset();

 private:
  const Device* device_ = nullptr;
  void* data_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace kiln::backends
