#pragma once

#include "ir/graph.h"
#include "kiln/status.h"

namespace kiln::passes {

// MatMul or Gemm (alpha = beta = 1, transA = 0) [+ bias Add of a [N] vector] [+ activation]
// -> one FusedMatMul (docs/fused-ops.md); Gemm's transB becomes trans_b and C the bias.
Result<bool> fuse_matmul_chains(ir::Graph& graph);

}  // namespace kiln::passes
