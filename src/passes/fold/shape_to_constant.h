// Replaces Shape and Size nodes whose input has a fully known static shape by constants.
// Exporters compute reshape targets at run time (Shape -> Gather -> Unsqueeze -> Concat ->
// Reshape in BERT); once the shapes are constants, constant folding removes the whole chain.
// Runs shape inference first so that shapes made static by earlier folding are seen.
#pragma once

#include "ir/graph.h"
#include "kiln/status.h"

namespace kiln::passes {

Result<bool> fold_shapes_to_constants(ir::Graph& graph);

}  // namespace kiln::passes
