// Removes nodes whose outputs reach no graph output, and values nothing uses any more.
#pragma once

#include "ir/graph.h"
#include "kiln/status.h"

namespace kiln::passes {

Result<bool> eliminate_dead_nodes(ir::Graph& graph);

}  // namespace kiln::passes
