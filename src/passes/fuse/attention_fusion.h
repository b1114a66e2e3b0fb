#pragma once

#include "ir/graph.h"
#include "kiln/status.h"

namespace kiln::passes {

// softmax(Q K^T * scale + mask) V as exporters write it -> one ScaledDotProductAttention:
// MatMul(Q, Transpose(K)), an optional Div or Mul by a constant (on the scores, on Q or on K),
// an optional additive mask, Softmax over the last axis and MatMul with V.
Result<bool> fuse_attention(ir::Graph& graph);

}  // namespace kiln::passes
