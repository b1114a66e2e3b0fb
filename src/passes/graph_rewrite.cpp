#include "passes/graph_rewrite.h"

#include <algorithm>
#include <string>
#include <vector>

namespace kiln::passes {

bool is_graph_input(const ir::Graph& graph, const ir::Value* value) {
  return std::find(graph.inputs().begin(), graph.inputs().end(), value) != graph.inputs().end();
}

bool is_graph_output(const ir::Graph& graph, const ir::Value* value) {
  return std::find(graph.outputs().begin(), graph.outputs().end(), value) != graph.outputs().end();
}

bool is_fixed_constant(const ir::Graph& graph, const ir::Value* value) {
  return value && value->is_constant() && !is_graph_input(graph, value);
}

void replace_node_uses(ir::Graph& graph, const ir::Value* from, ir::Value* to) {
  for (const auto& node : graph.nodes())
    for (size_t i = 0; i < node->inputs().size(); ++i)
      if (node->inputs()[i] == from) node->set_input(i, to);
}

ir::Node* replace_node_output(ir::Graph& graph, ir::Node* node, size_t slot, ir::Value* output) {
  const OpKind op = node->op();
  const std::string name = node->name();
  std::vector<ir::Value*> inputs = node->inputs();
  std::vector<ir::Value*> outputs = node->outputs();
  Attributes attrs = node->attrs();
  outputs[slot] = output;
  graph.remove_node(node);
  return graph.add_node(op, name, std::move(inputs), std::move(outputs), std::move(attrs));
}

}  // namespace kiln::passes
