// Linked when the CUDA backend is built.
#include "backends/cuda/cuda_device.h"
#include "backends/registry/registry.h"

namespace kiln::backends {

// The CUDA backend's ops land with src/backends/cuda/cuda_backend.h; until then engines use the
// CUDA device (memory, graphs) but no CUDA kernels.
const Backend* cuda_backend_if_built() { return nullptr; }
const Device* cuda_device_if_present() { return cuda::cuda_device(); }

}  // namespace kiln::backends
