#pragma once

#include "ir/graph.h"
#include "kiln/status.h"

namespace kiln::passes {

// The decomposed GELU an exporter writes -> one Gelu node (opset-20 form):
//   erf form  x * 0.5 * (1 + erf(x / sqrt(2)))  (Div by 1.4142.. or Mul by 0.7071..)  -> approximate="none"
//   tanh form x * 0.5 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))                  -> approximate="tanh"
// in any multiplication order.
Result<bool> fuse_gelu(ir::Graph& graph);

}  // namespace kiln::passes
