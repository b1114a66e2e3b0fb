#include "passes/layout/attention_layout.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <vector>

#include "core/attention_layout.h"
#include "passes/graph_rewrite.h"
#include "passes/pattern.h"

namespace kiln::passes {
namespace {

// [B,S,H,D] <-> [B,H,S,D]: the permutation is its own inverse.
bool swaps_heads_and_sequence(const ir::Node& transpose) {
  const std::vector<int64_t> perm = transpose.attrs().get_ints("perm", {});
  return perm == std::vector<int64_t>{0, 2, 1, 3};
}

ir::Node* head_split_of(const ir::Value* operand) {
  ir::Node* t = producer_of(operand, OpKind::Transpose);
  return t && swaps_heads_and_sequence(*t) ? t : nullptr;
}

}  // namespace

std::vector<ir::Node*> attention_nodes_in_layout(const ir::Graph& graph, QkvLayout layout) {
  std::vector<ir::Node*> nodes;
  for (const auto& node : graph.nodes())
    if (node->op() == OpKind::ScaledDotProductAttention) {
      auto decoded = decode_qkv_layout(node->attrs());
      if (decoded.ok() && *decoded == layout) nodes.push_back(node.get());
    }
  return nodes;
}

Result<bool> use_sequence_major_attention(ir::Graph& graph) {
  bool changed = false;
  for (ir::Node* attention : attention_nodes_in_layout(graph, QkvLayout::kBHSD)) {
    std::array<ir::Node*, 3> splits{};
    bool all = true;
    for (size_t i = 0; i < splits.size() && all; ++i) all = (splits[i] = head_split_of(attention->input(i))) != nullptr;
    ir::Value* out = attention->output(0);
    ir::Node* merge = sole_reader(graph, out);
    if (!all || !merge || merge->op() != OpKind::Transpose || !swaps_heads_and_sequence(*merge)) continue;
    for (size_t i = 0; i < splits.size(); ++i) attention->set_input(i, splits[i]->input(0));
    attention->mutable_attrs().set(kQkvLayoutAttr, std::string(qkv_layout_name(QkvLayout::kBSHD)));
    // The attention now produces the merge's output (name and readers stay); the old output
    // and the merge go.
    ir::Value* merged = merge->output(0);
    graph.remove_node(merge);
    replace_node_output(graph, attention, 0, merged);
    // A split Transpose read by nothing else goes now, so later passes see the Reshapes' real
    // readers (packed Q/K/V attention needs them read by the attention alone); one with other
    // readers stays.
    for (size_t i = 0; i < splits.size(); ++i) {
      const bool repeated = std::find(splits.begin(), splits.begin() + static_cast<std::ptrdiff_t>(i), splits[i]) !=
                            splits.begin() + static_cast<std::ptrdiff_t>(i);
      ir::Value* heads = splits[i]->output(0);
      if (!repeated && graph.consumers(heads).empty() && !is_graph_output(graph, heads)) graph.remove_node(splits[i]);
    }
    changed = true;
  }
  if (!changed) return false;
  KILN_RETURN_IF_ERROR(finish_rewrites(graph));
  return true;
}

}  // namespace kiln::passes
