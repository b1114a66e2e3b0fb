#pragma once

#include "ir/graph.h"
#include "kiln/status.h"

namespace kiln::passes {

// Conv [+ per-channel constant Add] [+ residual Add] [+ activation] -> one FusedConv
// (docs/fused-ops.md). Every Conv becomes a FusedConv, so backends see one conv op.
Result<bool> fuse_conv_chains(ir::Graph& graph);

}  // namespace kiln::passes
