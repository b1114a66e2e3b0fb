#pragma once

#include "ir/graph.h"
#include "kiln/status.h"

namespace kiln::passes {

// Sibling 1x1 convolutions (Conv or FusedConv without residual, group 1, equal attributes,
// constant weights and biases) that read the same input -> one conv with the filters
// concatenated, then a Split along the channels back into the original outputs.
Result<bool> fuse_sibling_pointwise_convs(ir::Graph& graph);

}  // namespace kiln::passes
