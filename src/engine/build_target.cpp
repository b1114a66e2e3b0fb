// kiln::build_target: the device the builder would choose (engine_builder.cpp's rule: named
// backends run on their own device kind; none named means CUDA where a GPU is present, else
// the host), answered from the backend registry without importing or building anything.
#include <algorithm>

#include "backends/registry/registry.h"
#include "kiln/builder.h"
#include "plan/plan_file.h"

namespace kiln {

Result<BuildTarget> build_target(const std::vector<std::string>& backend_names) {
  using backends::DeviceKind;
  DeviceKind kind = DeviceKind::kHost;
  std::string first;
  if (backend_names.empty()) {
    const std::vector<const backends::Backend*> all = backends::all_backends();
    const bool cuda_built = std::any_of(all.begin(), all.end(),
                                        [](const backends::Backend* b) { return b->device() == DeviceKind::kCuda; });
    if (cuda_built && backends::device_for(DeviceKind::kCuda) != nullptr) kind = DeviceKind::kCuda;
  } else {
    first = backend_names.front();
    for (const std::string& name : backend_names) {
      const backends::Backend* backend = backends::find_backend(name);
      if (!backend) {
        return invalid_argument("backend '" + name + "' is not in this build of kiln (it has: " + backends::backend_names() + ")");
      }
      if (name == first) kind = backend->device();
      if (backend->device() != kind) {
        return invalid_argument("backends '" + first + "' and '" + name + "' run on different devices; an engine runs on one");
      }
    }
  }
  const backends::Device* device = backends::device_for(kind);
  if (!device) {
    return failed_precondition("backend '" + (first.empty() ? std::string("cuda") : first) +
                               "' needs a CUDA GPU, and this machine has none (or its driver is not loaded)");
  }
  return BuildTarget{kind == DeviceKind::kCuda ? "cuda" : "host", device->arch(), device->name(), plan::kiln_version()};
}

}  // namespace kiln
