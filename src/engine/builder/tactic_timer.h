// Times one prepared kernel on its device: inputs are the node's real constants and, for the
// rest, seeded random floats (integers are zero: always valid as indices), so the kernel sees
// realistic data. The result is the median of `iterations` timed runs after a warm-up.
#pragma once

#include "backends/backend.h"
#include "backends/device.h"
#include "kiln/status.h"

namespace kiln::engine {

Result<double> time_kernel(const backends::Device& device, const backends::Kernel& kernel,
                           const backends::NodeDesc& node, int iterations);

}  // namespace kiln::engine
