#include "passes/cleanup/dead_node_elimination.h"

#include <unordered_set>
#include <vector>

namespace kiln::passes {

Result<bool> eliminate_dead_nodes(ir::Graph& graph) {
  // Walk backwards from the outputs: a node is live when something live reads one of its outputs.
  std::unordered_set<const ir::Value*> needed(graph.outputs().begin(), graph.outputs().end());
  std::vector<ir::Node*> dead;
  const auto& nodes = graph.nodes();
  for (auto it = nodes.rbegin(); it != nodes.rend(); ++it) {
    ir::Node* node = it->get();
    bool live = false;
    for (const ir::Value* out : node->outputs()) live = live || (out && needed.count(out));
    if (!live) {
      dead.push_back(node);
      continue;
    }
    for (const ir::Value* in : node->inputs())
      if (in) needed.insert(in);
  }
  for (ir::Node* node : dead) graph.remove_node(node);
  const size_t values_before = graph.values().size();
  graph.remove_unused_values();
  return !dead.empty() || graph.values().size() != values_before;
}

}  // namespace kiln::passes
