// Linked when the CUDA backend is built. The backend exists only where a GPU does: without one
// (CI, the build machines) it is absent and engines fall back to the host backends.
#include "backends/cuda/cuda_backend.h"
#include "backends/cuda/cuda_device.h"
#include "backends/registry/registry.h"

namespace kiln::backends {

const Backend* cuda_backend_if_built() {
  static const Backend* backend = []() -> const Backend* {
    if (!cuda::cuda_device()) return nullptr;
    auto created = cuda::CudaBackend::create();
    return created.ok() ? created->release() : nullptr;  // lives for the process, like the device
  }();
  return backend;
}

const Device* cuda_device_if_present() { return cuda::cuda_device(); }

}  // namespace kiln::backends
