#pragma once

#include "ir/graph.h"
#include "kiln/status.h"

namespace kiln::passes {

// Exporters often materialize a padding mask as [B, 1, Sq, Sk] (an Expand, or comparisons of
// index ranges) although every query row is the same. When the mask provably does not vary
// along the query axis -- it comes, through elementwise ops and Expands, only from values of size
// 1 there or from constants equal along it -- attention reads a Slice of one row, [B, 1, 1, Sk]:
// the kernels then load each key's mask value once per tile instead of once per score.
Result<bool> shrink_uniform_attention_masks(ir::Graph& graph);

}  // namespace kiln::passes
