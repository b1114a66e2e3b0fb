#pragma once

#include "ir/graph.h"
#include "kiln/status.h"

namespace kiln::passes {

// Reshape(Reshape(x, s1), s2) reads x directly when s2 is a constant that does not copy dims
// from its input (no 0 entries, or allowzero=1); a Reshape to the shape its input already has
// vanishes.
Result<bool> cancel_reshapes(ir::Graph& graph);

}  // namespace kiln::passes
