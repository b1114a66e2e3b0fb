// Linked when the oneDNN CPU backend is built (always, since libdnnl-dev is a required package).
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>

#include "backends/cpu/cpu_backend.h"
#include "backends/registry/registry.h"

namespace kiln::backends {

// The registry hands out one shared backend, so its thread count is a process setting:
// KILN_CPU_THREADS (default: one per hardware thread).
const Backend* cpu_backend_if_built() {
  static const cpu::CpuBackend backend([] {
    cpu::CpuBackendOptions options;
    if (const char* threads = std::getenv("KILN_CPU_THREADS")) options.threads = std::atoi(threads);
    return options;
  }());
  return &backend;
}

const Backend* cpu_backend_with_threads(int threads) {
  static std::mutex mutex;
  static std::map<int, std::unique_ptr<cpu::CpuBackend>> by_count;
  std::lock_guard<std::mutex> lock(mutex);
  std::unique_ptr<cpu::CpuBackend>& backend = by_count[threads];
  if (!backend) backend = std::make_unique<cpu::CpuBackend>(cpu::CpuBackendOptions{threads});
  return backend.get();
}

}  // namespace kiln::backends
