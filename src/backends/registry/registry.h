// The backends and devices this build of kiln has. Which optional backends exist is decided by
// CMake (a folder is built or a stub is linked), never by #ifs here.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "backends/backend.h"
#include "backends/device.h"

namespace kiln::backends {

// Every backend built in, fastest first within a device kind: cuda, cpu, reference.
std::vector<const Backend*> all_backends();
// nullptr when the name is unknown or that backend is not built.
const Backend* find_backend(std::string_view name);
// find_backend, with the CPU backend on `cpu_threads` threads when that is positive (one backend
// per count, cpu_backend_with_threads); 0 gives the shared one.
const Backend* find_backend(std::string_view name, int cpu_threads);
// "cuda, cpu, reference": for error messages.
std::string backend_names();
// The device a backend's buffers live on; nullptr when this machine has none (no GPU).
const Device* device_for(DeviceKind kind);

// Entry points of the optional backends: the real ones when the folder is built, otherwise a
// stub returning nullptr (registry/no_<backend>.cpp).
const Backend* cuda_backend_if_built();
const Device* cuda_device_if_present();
const Backend* cpu_backend_if_built();
// A CPU backend running its kernels on `threads` threads (> 0), made on first use and kept for
// the process: sessions that ask for their own thread count share one per count.
const Backend* cpu_backend_with_threads(int threads);

}  // namespace kiln::backends
