// Small graph edits shared by passes: who reads a value, rewiring readers, and giving a node
// a different output value (how a pass keeps graph output names stable).
#pragma once

#include <cstddef>

#include "ir/graph.h"

namespace kiln::passes {

bool is_graph_input(const ir::Graph& graph, const ir::Value* value);
bool is_graph_output(const ir::Graph& graph, const ir::Value* value);
// A constant whose data the caller cannot override (an initializer listed as a graph input can
// be replaced at run time, so it must not be folded).
bool is_fixed_constant(const ir::Graph& graph, const ir::Value* value);

// Makes every node that reads `from` read `to` instead (graph outputs are left alone).
void replace_node_uses(ir::Graph& graph, const ir::Value* from, ir::Value* to);

// Re-creates `node` with output `slot` replaced by `output` (a value no node produces) and
// removes the old node. The new node is appended: the caller re-sorts the graph.
ir::Node* replace_node_output(ir::Graph& graph, ir::Node* node, size_t slot, ir::Value* output);

}  // namespace kiln::passes
