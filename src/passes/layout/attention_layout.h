#pragma once

#include <vector>

#include "core/attention_layout.h"
#include "ir/graph.h"
#include "kiln/status.h"

namespace kiln::passes {

// Exporters split heads with Reshape [B,S,H*D] -> [B,S,H,D] and Transpose [0,2,1,3] before
// attention, and merge them with the inverse Transpose after it: four full copies of Q, K, V and
// the output per layer. When all four Transposes are there, ScaledDotProductAttention takes the
// sequence-major tensors directly (qkv_layout "BSHD") and the Transposes go; the Reshapes left
// around it are views. Only for backends whose attention reads that layout in place (CUDA).
Result<bool> use_sequence_major_attention(ir::Graph& graph);

// The ScaledDotProductAttention nodes whose qkv_layout is `layout`, in graph order (collected
// first, so a pass may rewrite around them).
std::vector<ir::Node*> attention_nodes_in_layout(const ir::Graph& graph, QkvLayout layout);

}  // namespace kiln::passes
