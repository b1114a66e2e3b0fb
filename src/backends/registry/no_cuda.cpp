// Linked when the CUDA backend is not built (no CUDA compiler, or KILN_ENABLE_CUDA=OFF).
#include "backends/registry/registry.h"

namespace kiln::backends {

const Backend* cuda_backend_if_built() { return nullptr; }
const Device* cuda_device_if_present() { return nullptr; }

}  // namespace kiln::backends
