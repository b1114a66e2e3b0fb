// Times one prepared kernel on its device: inputs are the node's real constants and, for the
// rest, seeded random floats (integers are zero: always valid as indices), so the kernel sees
// realistic data. The result is the median of `iterations` timed runs after a warm-up. A tactic
// whose first timed run is slower than `give_up_ms` (> 0) is not timed further: that run is
// returned, so hopeless candidates (FFT convolutions at batch 256) cost one run, not twenty.
#pragma once

#include "backends/backend.h"
#include "backends/device.h"
#include "kiln/status.h"

namespace kiln::engine {

Result<double> time_kernel(const backends::Device& device, const backends::Kernel& kernel,
                           const backends::NodeDesc& node, int iterations, double give_up_ms = 0);

}  // namespace kiln::engine
