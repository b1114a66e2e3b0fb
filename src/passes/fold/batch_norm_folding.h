#pragma once

#include "ir/graph.h"
#include "kiln/status.h"

namespace kiln::passes {

// Inference BatchNormalization after a Conv, Gemm or 2-D MatMul with constant weights folds into
// those weights and a bias, computed in double: y = (conv(x) + b - mean) * s + beta with
// s = scale / sqrt(var + eps) is conv'(x) with W' = W * s per output channel, b' = (b - mean) * s + beta.
Result<bool> fold_batch_norms(ir::Graph& graph);

}  // namespace kiln::passes
