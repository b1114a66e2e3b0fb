// A capability some sessions add to kiln/session.h's: running a batch given as each input's
// consecutive row groups (one per request of a dynamic batch) and joining them itself. An engine
// copies every group straight to its place in device memory, so the batch is never joined in
// host memory first: for ResNet-50 batches that host join cost twice the engine's run.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "kiln/status.h"
#include "kiln/tensor.h"

namespace kiln {

class BatchRunner {
 public:
  virtual ~BatchRunner() = default;
  // parts[input]: the input's row groups in order; the groups of one input share the dtype and
  // every dimension but the first, and every input's groups add up to the same number of rows.
  // Returns the model's outputs for the whole batch, as Session::run does for the joined inputs.
  virtual Result<std::vector<Tensor>> run_parts(const std::map<std::string, std::vector<Tensor>>& parts) const = 0;
};

}  // namespace kiln
