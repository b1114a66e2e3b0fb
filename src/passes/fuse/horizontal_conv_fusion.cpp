// Only 1x1 filters: for them the merged conv does exactly the siblings' work, reading the input
// once (Inception-style branches). Larger filters would merge too, but they rarely share
// attributes in real models and the gain is smaller.
#include "passes/fuse/horizontal_conv_fusion.h"

#include "passes/fuse/sibling_merge.h"
#include "passes/graph_rewrite.h"

namespace kiln::passes {
namespace {

enum Input : size_t { kX = 0, kW = 1, kB = 2, kZ = 3 };
constexpr int64_t kChannelAxis = 1;

bool is_pointwise(const Tensor& w) {
  if (w.rank() < 3) return false;
  for (size_t d = 2; d < w.rank(); ++d)
    if (w.shape()[d] != 1) return false;
  return true;
}

bool eligible(const ir::Graph& graph, const ir::Node& n) {
  const ir::Value* w = n.input(kW);
  if (!is_fixed_constant(graph, w) || !is_pointwise(*w->constant()) || n.attrs().get_int("group", 1) != 1) return false;
  if (n.input(kZ)) return false;
  const ir::Value* b = n.input(kB);
  return !b || is_fixed_constant(graph, b);
}

SiblingRule pointwise_rule() {
  SiblingRule rule;
  rule.eligible = eligible;
  rule.width = [](const ir::Node& n) { return n.input(kW)->constant()->shape()[0]; };
  rule.merged_inputs = [](ir::Graph& graph, const std::vector<ir::Node*>& group) {
    std::vector<const ir::Value*> weights, biases;
    for (const ir::Node* n : group) {
      weights.push_back(n->input(kW));
      if (n->input(kB)) biases.push_back(n->input(kB));
    }
    const std::string name = group.front()->name() + ".merged";
    std::vector<ir::Value*> inputs = {concat_constants(graph, weights, 0, name + ".weight")};
    if (!biases.empty()) inputs.push_back(concat_constants(graph, biases, 0, name + ".bias"));
    return inputs;
  };
  rule.split_axis = kChannelAxis;
  return rule;
}

}  // namespace

Result<bool> fuse_sibling_pointwise_convs(ir::Graph& graph) {
  KILN_ASSIGN_OR_RETURN(bool fused, merge_siblings(graph, OpKind::FusedConv, pointwise_rule()));
  KILN_ASSIGN_OR_RETURN(bool plain, merge_siblings(graph, OpKind::Conv, pointwise_rule()));
  return fused || plain;
}

}  // namespace kiln::passes
