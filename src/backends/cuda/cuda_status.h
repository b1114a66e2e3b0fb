// Turning CUDA runtime errors into kiln::Status, naming the call that failed.
#pragma once

#include <cuda_runtime_api.h>

#include <string>

#include "kiln/status.h"

namespace kiln::cuda {

inline Status cuda_status(cudaError_t error, const char* what) {
  if (error == cudaSuccess) return Status::ok_status();
  return internal_error(std::string(what) + ": " + cudaGetErrorName(error) + " (" + cudaGetErrorString(error) + ")");
}

// Number of usable CUDA devices; 0 when there is no driver or no GPU (both normal on CI machines).
inline int cuda_device_count() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    (void)cudaGetLastError();  // clear the sticky "no device" error so later calls start clean
    return 0;
  }
  return count;
}

}  // namespace kiln::cuda
