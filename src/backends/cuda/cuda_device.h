// The CUDA GPU as a backends::Device: cudaMalloc'ed memory, page-locked staging, non-blocking
// streams, timing events and CUDA-graph capture of a context's step list.
#pragma once

#include "backends/device.h"

namespace kiln::cuda {

// Device 0 of this process; nullptr when there is no driver or no GPU.
const backends::Device* cuda_device();

}  // namespace kiln::cuda
