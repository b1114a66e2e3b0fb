// Structural checks of a graph, run after import and (in debug builds) after every pass:
//  1. value names are unique and every node output has exactly one producer;
//  2. nodes are in topological order: each input is a graph input, a constant or the output of
//     an earlier node;
//  3. each node's input and output counts fit its op schema, and required inputs are present;
//  4. every graph output is produced (or is a graph input or constant);
//  5. every value that feeds a node has a known dtype.
// The first violation is returned, naming the node and value.
#pragma once

#include "ir/graph.h"
#include "kiln/status.h"

namespace kiln::ir {

Status verify(const Graph& graph);

}  // namespace kiln::ir
