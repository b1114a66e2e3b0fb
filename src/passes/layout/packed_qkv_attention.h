#pragma once

#include "ir/graph.h"
#include "kiln/status.h"

namespace kiln::passes {

// After horizontal fusion, Q, K and V come from one [B, S, 3 H D] projection through a Split
// (three copies) and three head-split Reshapes into sequence-major attention. When the Split
// and the Reshapes feed nothing else, the projection is reshaped once to [B, S, 3, H, D] (a
// view) and ScaledDotProductAttention reads its three slots in place (qkv_layout "BS3HD"): the
// Split copy goes. Runs after sequence-major attention; only for backends whose attention
// kernel takes strides (CUDA).
Result<bool> use_packed_qkv_attention(ir::Graph& graph);

}  // namespace kiln::passes
