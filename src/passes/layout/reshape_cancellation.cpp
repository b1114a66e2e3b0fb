// "Already has the shape" is decided on static types: every dim equal and known, or unknown
// with the same symbol (symbols tie equal dims together). A Reshape that produces a graph
// output is kept when it would vanish, so the output keeps its name.
#include "passes/layout/reshape_cancellation.h"

#include <vector>

#include "passes/graph_rewrite.h"
#include "passes/pattern.h"

namespace kiln::passes {
namespace {

enum ReshapeInput : size_t { kData = 0, kShape = 1 };

// The target of `reshape` never refers to its input's dims: a constant without 0 entries, or
// any constant when allowzero=1 (then 0 means a zero-sized dim).
bool target_is_self_contained(const ir::Graph& graph, const ir::Node& reshape) {
  auto target = constant_values(graph, reshape.input(kShape));
  if (!target) return false;
  if (reshape.attrs().get_int("allowzero", 0) != 0) return true;
  for (double d : *target)
    if (d == 0.0) return false;
  return true;
}

}  // namespace

Result<bool> cancel_reshapes(ir::Graph& graph) {
  // One sweep in topological order (see transpose_cancellation.cpp): an inner Reshape is
  // visited before its reader, and only visited nodes are removed.
  std::vector<ir::Node*> reshapes;
  for (const auto& node : graph.nodes())
    if (node->op() == OpKind::Reshape && node->output(0)) reshapes.push_back(node.get());
  bool changed = false;
  for (ir::Node* reshape : reshapes) {
    ir::Value* result = reshape->output(0);
    ir::Value* data = reshape->input(kData);
    if (!data) continue;
    if (same_shape(data, result) && !is_graph_output(graph, result)) {
      replace_node_uses(graph, result, data);
      graph.remove_node(reshape);
      changed = true;
      continue;
    }
    ir::Node* inner = producer_of(data, OpKind::Reshape);
    if (!inner || !target_is_self_contained(graph, *reshape)) continue;
    reshape->set_input(kData, inner->input(kData));
    if (!is_graph_output(graph, data) && graph.consumers(data).empty()) graph.remove_node(inner);
    changed = true;
  }
  if (!changed) return false;
  KILN_RETURN_IF_ERROR(finish_rewrites(graph));
  return true;
}

}  // namespace kiln::passes
