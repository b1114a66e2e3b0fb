// The fast CPU backend: oneDNN for convolution, matmul and pooling, own vectorized multithreaded
// kernels for elementwise ops, normalization, attention and data movement. FP32 only; supports()
// says no to everything else so the builder falls back to the reference backend.
//
// Threads: one setting for the whole backend (CpuBackendOptions::threads). oneDNN here is built on
// OpenMP, and the backend's own kernels run on the same OpenMP pool, so the two never
// oversubscribe the cores.
#pragma once

#include <memory>
#include <string_view>

#include "backends/backend.h"

namespace kiln::backends::cpu {

struct CpuBackendOptions {
  // Worker threads for every kernel of this backend; 0 means one per hardware thread.
  int threads = 0;
};

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(CpuBackendOptions options = {});
  std::string_view name() const override { return "cpu"; }
  DeviceKind device() const override { return DeviceKind::kHost; }
  bool supports(const NodeDesc& node) const override;
  std::vector<Tactic> tactics(const NodeDesc& node) const override;
  Result<std::unique_ptr<Kernel>> prepare(const NodeDesc& node, int32_t tactic) const override;

  int threads() const { return threads_; }

 private:
  int threads_ = 1;
};

}  // namespace kiln::backends::cpu
