#include "backends/registry/registry.h"

#include "backends/host_device.h"
#include "backends/reference/reference_backend.h"

namespace kiln::backends {

std::vector<const Backend*> all_backends() {
  std::vector<const Backend*> backends;
  if (const Backend* cuda = cuda_backend_if_built()) backends.push_back(cuda);
  if (const Backend* cpu = cpu_backend_if_built()) backends.push_back(cpu);
  backends.push_back(&reference_backend());
  return backends;
}

const Backend* find_backend(std::string_view name) {
  for (const Backend* b : all_backends())
    if (b->name() == name) return b;
  return nullptr;
}

const Backend* find_backend(std::string_view name, int cpu_threads) {
  const Backend* backend = find_backend(name);
  if (backend != nullptr && cpu_threads > 0 && backend == cpu_backend_if_built()) return cpu_backend_with_threads(cpu_threads);
  return backend;
}

std::string backend_names() {
  std::string names;
  for (const Backend* b : all_backends()) names += (names.empty() ? "" : ", ") + std::string(b->name());
  return names;
}

const Device* device_for(DeviceKind kind) {
  switch (kind) {
    case DeviceKind::kHost:
      return &host_device();
    case DeviceKind::kCuda:
      return cuda_device_if_present();
  }
  return nullptr;
}

}  // namespace kiln::backends
