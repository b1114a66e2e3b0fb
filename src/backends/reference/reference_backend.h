// The reference kernels behind the Backend interface, on the host: the fallback for ops no
// fast backend supports, and what engine-level tests compare fast engines with. Each execute
// runs the kernel (which allocates its result) and copies the result into the planned buffer,
// so it is neither fast nor allocation-free; it is obviously correct.
#pragma once

#include "backends/backend.h"

namespace kiln::backends {

const Backend& reference_backend();

}  // namespace kiln::backends
