// Evaluates nodes whose inputs are all constants and replaces their outputs by constants.
// Passes may not link backends, so evaluation is a callback (the engine supplies one built on
// the reference kernels). Outputs larger than max_output_bytes stay computed at run time: a
// folded Expand or Tile could otherwise blow the model up.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "ir/graph.h"
#include "kiln/status.h"
#include "kiln/tensor.h"

namespace kiln::passes {

// Computes every output of `node` (one Tensor per output slot) from its input data (nullptr
// for absent optional inputs).
using NodeEvaluator =
    std::function<Result<std::vector<Tensor>>(const ir::Node& node, const std::vector<const Tensor*>& inputs)>;

constexpr int64_t kDefaultMaxFoldedBytes = int64_t{16} << 20;  // 16 MiB

struct ConstantFoldingOptions {
  NodeEvaluator evaluate;  // empty: the pass does nothing
  int64_t max_output_bytes = kDefaultMaxFoldedBytes;
};

Result<bool> fold_constants(ir::Graph& graph, const ConstantFoldingOptions& options);

}  // namespace kiln::passes
