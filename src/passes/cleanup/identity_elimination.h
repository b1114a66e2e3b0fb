// Removes Identity nodes and Dropout nodes in inference form (no training_mode, or a constant
// false one, and no mask reader): their readers read the input directly. When the removed
// node's output is a graph output, the input's producer is made to produce it instead, so
// graph output names never change.
#pragma once

#include "ir/graph.h"
#include "kiln/status.h"

namespace kiln::passes {

Result<bool> eliminate_identities(ir::Graph& graph);

}  // namespace kiln::passes
