// Buffers that received request bytes land in: kiln serve's front ends copy an HTTP body or a
// gRPC raw input straight into one, and the request's tensors view it. Page-locked where a CUDA
// device exists, so the execution context copies those inputs to the GPU directly instead of
// through its staging buffer (one host copy of every input byte fewer, on the instance thread),
// and reused, so a 9.6 MB request neither allocates nor faults in fresh pages.
//
// Page-locked memory is a shared resource: the pool holds at most `capacity` bytes of it (as
// Triton's --pinned-memory-pool-byte-size). Past that, and for small requests, buffers are plain
// heap memory; requests never fail for want of pool space.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace kiln::serving {

class TransferBufferPool {
 public:
  // Requests smaller than this get plain heap buffers: their copies cost little.
  static constexpr size_t kMinPooledBytes = size_t{64} << 10;

  explicit TransferBufferPool(size_t capacity);
  ~TransferBufferPool();
  TransferBufferPool(const TransferBufferPool&) = delete;
  TransferBufferPool& operator=(const TransferBufferPool&) = delete;

  // At least `bytes` bytes, uninitialised, 64-byte aligned. The buffer goes back to the pool when
  // the last copy of the returned pointer is dropped, on any thread, also after the pool is gone.
  std::shared_ptr<uint8_t> acquire(size_t bytes);

  // Bytes the pool holds (in use and free) and of those, free.
  size_t pooled_bytes() const;
  size_t free_bytes() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace kiln::serving
