// CudaStream: an owned non-blocking stream (each execution context gets its own).
#pragma once

#include <cuda_runtime_api.h>

#include "kiln/status.h"

namespace kiln::cuda {

class CudaStream {
 public:
  static Result<CudaStream> create();
  ~CudaStream();
  CudaStream(CudaStream&& other) noexcept;
  CudaStream& operator=(CudaStream&& other) noexcept;
  CudaStream(const CudaStream&) = delete;
  CudaStream& operator=(const CudaStream&) = delete;

  cudaStream_t get() const { return stream_; }
  Status synchronize() const;

 private:
  CudaStream() = default;
  cudaStream_t stream_ = nullptr;
};

}  // namespace kiln::cuda
