// GPU readings from NVML, the driver's management library, loaded at run time with dlopen: kiln
// has no link-time dependency on the driver, and a server without a GPU or driver runs the same,
// only without GPU metrics (the error says why, for the log).
#pragma once

#include <memory>

#include "kiln/status.h"
#include "serving/gpu_metrics.h"

namespace kiln::serving {

// Every GPU NVML sees; energy counts from this call on. Errors: the library is missing, NVML
// does not initialise (no driver), or it sees no GPU.
Result<std::unique_ptr<GpuReadingSource>> open_nvml_reading_source();

}  // namespace kiln::serving
