// Times prepared kernels of one node on its device. Inputs are the node's real constants and, for
// the rest, seeded random floats (integers are zero: always valid as indices), so kernels see
// realistic data. The buffers are filled once per node and shared by all of its tactics: at
// BERT-large batch 128 one activation is 100 MB, and refilling it per tactic cost more than
// timing. A result is the median of `iterations` timed runs after a warm-up. A tactic whose
// first timed run is slower than `give_up_ms` (> 0) is not timed further: that run is returned,
// so hopeless candidates (FFT convolutions at batch 256) cost one run, not twenty.
#pragma once

#include <memory>
#include <vector>

#include "backends/backend.h"
#include "backends/device.h"
#include "kiln/status.h"

namespace kiln::engine {

class NodeTimingBench {
 public:
  static Result<std::unique_ptr<NodeTimingBench>> create(const backends::Device& device, const backends::NodeDesc& node);
  ~NodeTimingBench();
  NodeTimingBench(const NodeTimingBench&) = delete;
  NodeTimingBench& operator=(const NodeTimingBench&) = delete;

  Result<double> time(const backends::Kernel& kernel, int iterations, double give_up_ms = 0);

 private:
  explicit NodeTimingBench(const backends::Device& device) : device_(device) {}

  const backends::Device& device_;
  std::vector<backends::DeviceBuffer> buffers_;
  backends::ExecuteArgs args_;
  void* stream_ = nullptr;
  void* start_ = nullptr;
  void* end_ = nullptr;
};

}  // namespace kiln::engine
