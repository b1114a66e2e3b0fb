#pragma once

#include "ir/graph.h"
#include "kiln/status.h"

namespace kiln::passes {

// Sibling MatMul / FusedMatMul nodes that read the same input with constant 2-D weights (and
// equal attributes, constant biases) -> one product with the weights (and biases) concatenated,
// then a Split back into the original outputs (attention's Q, K and V projections).
Result<bool> fuse_sibling_matmuls(ir::Graph& graph);

}  // namespace kiln::passes
