// GPU memory another process shares through CUDA IPC (cudaIpcGetMemHandle): what KServe's CUDA
// shared-memory extension registers. Inputs in it go to the engine device to device; outputs are
// copied into it from the host. Only where this machine has a CUDA device.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "kiln/status.h"

namespace kiln {

// The serialized cudaIpcMemHandle_t's size.
inline constexpr size_t kCudaIpcHandleBytes = 64;

// Opens the allocation `handle` names on GPU `device_id`; it is closed when the last copy of the
// returned pointer is dropped. Unavailable without a CUDA device; invalid for a handle the
// driver refuses (a dead process, another GPU).
Result<std::shared_ptr<void>> open_cuda_ipc_memory(const std::string& handle, int64_t device_id);

// Whether `ptr` is CUDA device memory (false where there is no CUDA device).
bool is_cuda_device_memory(const void* ptr);

// Copies host bytes into CUDA device memory and waits for the copy.
Status copy_host_to_cuda_memory(void* device_dst, const void* host_src, size_t bytes);

}  // namespace kiln
