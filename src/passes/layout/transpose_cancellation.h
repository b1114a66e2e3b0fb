#pragma once

#include "ir/graph.h"
#include "kiln/status.h"

namespace kiln::passes {

// Transpose(Transpose(x, p1), p2) reads x directly with the composed permutation p1[p2[i]];
// a Transpose whose permutation is the identity vanishes.
Result<bool> cancel_transposes(ir::Graph& graph);

}  // namespace kiln::passes
