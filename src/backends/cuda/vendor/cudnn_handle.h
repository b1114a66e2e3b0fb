// One cuDNN handle shared by every kernel of a backend. cuDNN binds a stream to the handle
// (cudnnSetStream) rather than to each call, so calls from several execution contexts (each on
// its own stream) take the handle's lock for the set-stream-and-enqueue pair; the lock is held
// only while the work is enqueued, not while it runs.
#pragma once

#include <cudnn.h>
#include <cuda_runtime_api.h>

#include <memory>
#include <mutex>
#include <string>

#include "kiln/dtype.h"
#include "kiln/status.h"

namespace kiln::cuda {

Status cudnn_status(cudnnStatus_t status, const char* what);

// cuDNN's data type for a float storage dtype; an error for the others.
Result<cudnnDataType_t> cudnn_data_type(DType dtype);

class CudnnHandle {
 public:
  static Result<std::shared_ptr<CudnnHandle>> create();
  ~CudnnHandle();
  CudnnHandle(const CudnnHandle&) = delete;
  CudnnHandle& operator=(const CudnnHandle&) = delete;

  cudnnHandle_t get() const { return handle_; }

  // Runs `enqueue(handle)` with the handle bound to `stream`, under the handle's lock.
  template <class F>
  Status on_stream(cudaStream_t stream, F&& enqueue) const {
    std::lock_guard<std::mutex> lock(mutex_);
    KILN_RETURN_IF_ERROR(cudnn_status(cudnnSetStream(handle_, stream), "cudnnSetStream"));
    return enqueue(handle_);
  }

  // Runs `work(handle)` under the handle's lock without touching its stream: planning calls
  // (graph-API heuristics, execution-plan finalization) that must not overlap another thread's
  // use of the handle.
  template <class F>
  auto locked(F&& work) const {
    std::lock_guard<std::mutex> lock(mutex_);
    return work(handle_);
  }

 private:
  CudnnHandle() = default;
  cudnnHandle_t handle_ = nullptr;
  mutable std::mutex mutex_;
};

}  // namespace kiln::cuda
