#pragma once

#include "ir/graph.h"
#include "kiln/status.h"

namespace kiln::passes {

// Every 2-D FusedConv with a constant W, and every 2-D MaxPool (without Indices), AveragePool
// and GlobalAveragePool, runs channels-last: Transpose(X, [0,2,3,1]) -> op {channels_last=1}
// (W's data permuted to [M, kH, kW, C/g], Z transposed like X) -> Transpose(Y, [0,3,1,2]);
// transpose cancellation then removes every pair between consecutive such ops.
Result<bool> convert_to_channels_last(ir::Graph& graph);

}  // namespace kiln::passes
