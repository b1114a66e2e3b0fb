#include "passes/cleanup/identity_elimination.h"

#include <unordered_set>
#include <vector>

#include "passes/graph_rewrite.h"

namespace kiln::passes {
namespace {

constexpr size_t kDropoutTrainingModeInput = 2;
constexpr size_t kDropoutMaskOutput = 1;

bool is_false_scalar(const ir::Graph& graph, const ir::Value* value) {
  if (!is_fixed_constant(graph, value)) return false;
  const Tensor& t = *value->constant();
  return t.dtype() == DType::kBool && t.numel() == 1 && !*t.data<bool>();
}

bool is_inference_dropout(const ir::Graph& graph, const ir::Node& node) {
  const ir::Value* training = node.input(kDropoutTrainingModeInput);
  if (training && !is_false_scalar(graph, training)) return false;
  const ir::Value* mask = node.output(kDropoutMaskOutput);
  return !mask || (!is_graph_output(graph, mask) && graph.consumers(mask).empty());
}

bool is_removable(const ir::Graph& graph, const ir::Node& node) {
  if (!node.input(0) || !node.output(0)) return false;
  if (node.op() == OpKind::Identity) return true;
  return node.op() == OpKind::Dropout && is_inference_dropout(graph, node);
}

// Removes `node` (y = f(x)); false when that would rename a graph output.
bool remove_forwarding_node(ir::Graph& graph, ir::Node* node) {
  ir::Value* x = node->input(0);
  ir::Value* y = node->output(0);
  if (!is_graph_output(graph, y)) {
    replace_node_uses(graph, y, x);
    graph.remove_node(node);
    return true;
  }
  // y must keep its name: x's producer produces y instead. Not possible when x itself is
  // visible from outside (a graph input or output) or has no producer (a constant).
  ir::Node* producer = x->producer();
  if (!producer || is_graph_input(graph, x) || is_graph_output(graph, x)) return false;
  graph.remove_node(node);
  replace_node_uses(graph, x, y);
  replace_node_output(graph, producer, static_cast<size_t>(x->producer_output()), y);
  return true;
}

}  // namespace

Result<bool> eliminate_identities(ir::Graph& graph) {
  std::vector<ir::Node*> candidates;
  for (const auto& node : graph.nodes())
    if (is_removable(graph, *node)) candidates.push_back(node.get());
  bool changed = false;
  for (ir::Node* node : candidates) changed = remove_forwarding_node(graph, node) || changed;
  if (!changed) return false;
  KILN_RETURN_IF_ERROR(graph.sort_topologically());
  graph.remove_unused_values();
  return true;
}

}  // namespace kiln::passes
