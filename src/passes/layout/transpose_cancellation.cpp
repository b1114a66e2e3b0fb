// The inner Transpose stays while anything else reads it. An identity Transpose that produces a
// graph output is kept: removing it would rename the output.
#include "passes/layout/transpose_cancellation.h"

#include <algorithm>
#include <numeric>
#include <vector>

#include "passes/graph_rewrite.h"
#include "passes/pattern.h"

namespace kiln::passes {
namespace {

// The permutation of `t`, with ONNX's default (reversed axes) when the attribute is absent;
// empty when the input rank is unknown or the attribute does not fit it.
std::vector<int64_t> permutation_of(const ir::Node& t) {
  const ir::Value* x = t.input(0);
  if (!x || !x->type().shape) return {};
  const size_t rank = x->type().shape->size();
  std::vector<int64_t> reversed(rank);
  std::iota(reversed.rbegin(), reversed.rend(), 0);
  std::vector<int64_t> perm = t.attrs().get_ints("perm", reversed);
  if (perm.size() != rank) return {};
  std::vector<int64_t> sorted = perm;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < rank; ++i)
    if (sorted[i] != static_cast<int64_t>(i)) return {};
  return perm;
}

bool is_identity(const std::vector<int64_t>& perm) {
  for (size_t i = 0; i < perm.size(); ++i)
    if (perm[i] != static_cast<int64_t>(i)) return false;
  return true;
}

void remove_if_unread(ir::Graph& graph, ir::Node* node) {
  if (node && !is_graph_output(graph, node->output(0)) && graph.consumers(node->output(0)).empty())
    graph.remove_node(node);
}

}  // namespace

Result<bool> cancel_transposes(ir::Graph& graph) {
  // One sweep in topological order: an inner Transpose is always visited (and, when it is
  // itself the outer of a pair, rewritten) before the Transpose that reads it, so chains of any
  // length collapse; nodes the sweep removes are always ones it has already visited.
  std::vector<ir::Node*> transposes;
  for (const auto& node : graph.nodes())
    if (node->op() == OpKind::Transpose && node->output(0)) transposes.push_back(node.get());
  bool changed = false;
  for (ir::Node* outer : transposes) {
    std::vector<int64_t> p2 = permutation_of(*outer);
    if (p2.empty()) continue;
    ir::Node* inner = producer_of(outer->input(0), OpKind::Transpose);
    ir::Value* source = outer->input(0);
    std::vector<int64_t> composed = p2;
    if (inner) {
      const std::vector<int64_t> p1 = permutation_of(*inner);
      if (p1.size() != p2.size()) continue;
      for (size_t i = 0; i < p2.size(); ++i) composed[i] = p1[static_cast<size_t>(p2[i])];
      source = inner->input(0);
    } else if (!is_identity(p2)) {
      continue;
    }
    ir::Value* result = outer->output(0);
    if (is_identity(composed)) {
      if (is_graph_output(graph, result)) continue;
      replace_node_uses(graph, result, source);
      graph.remove_node(outer);
    } else {
      Attributes attrs;
      attrs.set("perm", composed);
      replace_chain(graph, {outer}, OpKind::Transpose, outer->name(), {source}, result, std::move(attrs));
    }
    remove_if_unread(graph, inner);
    changed = true;
  }
  if (!changed) return false;
  KILN_RETURN_IF_ERROR(finish_rewrites(graph));
  return true;
}

}  // namespace kiln::passes
