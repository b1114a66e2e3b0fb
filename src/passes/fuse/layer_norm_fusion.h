#pragma once

#include "ir/graph.h"
#include "kiln/status.h"

namespace kiln::passes {

// The decomposed layer norm over the last axis -> one LayerNormalization:
//   d = x - ReduceMean(x); y = d / Sqrt(ReduceMean(d^2) + eps) [* scale] [+ bias]
// with d^2 as Pow(d, 2) or Mul(d, d); without a scale Mul the scale is ones.
Result<bool> fuse_layer_norms(ir::Graph& graph);

}  // namespace kiln::passes
