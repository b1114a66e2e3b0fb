// One wider GEMM reads the activations once and keeps the GPU busier than three narrow ones.
// Weights are concatenated along N: axis 1 of [K, N], or axis 0 of [N, K] with trans_b.
#include "passes/fuse/horizontal_matmul_fusion.h"

#include "passes/fuse/sibling_merge.h"
#include "passes/graph_rewrite.h"

namespace kiln::passes {
namespace {

enum Input : size_t { kA = 0, kB = 1, kBias = 2, kResidual = 3 };
constexpr size_t kMatrixRank = 2;

bool transposed(const ir::Node& n) { return n.attrs().get_int("trans_b", 0) != 0; }

bool eligible(const ir::Graph& graph, const ir::Node& n) {
  // Each sibling's residual would need a slice of the merged output of its own.
  if (n.input(kResidual)) return false;
  const ir::Value* b = n.input(kB);
  if (!is_fixed_constant(graph, b) || b->constant()->rank() != kMatrixRank) return false;
  const ir::Value* a = n.input(kA);
  if (!a->type().shape || a->type().shape->size() < kMatrixRank) return false;  // no 1-D MatMul operands
  const ir::Value* bias = n.input(kBias);
  return !bias || (is_fixed_constant(graph, bias) && bias->constant()->rank() == 1);
}

SiblingRule rule_for(OpKind op) {
  SiblingRule rule;
  rule.eligible = eligible;
  rule.width = [](const ir::Node& n) { return n.input(kB)->constant()->shape()[transposed(n) ? 0 : 1]; };
  rule.merged_inputs = [op](ir::Graph& graph, const std::vector<ir::Node*>& group) {
    std::vector<const ir::Value*> weights, biases;
    for (const ir::Node* n : group) {
      weights.push_back(n->input(kB));
      if (n->input(kBias)) biases.push_back(n->input(kBias));
    }
    const std::string name = group.front()->name() + ".merged";
    std::vector<ir::Value*> inputs = {concat_constants(graph, weights, transposed(*group.front()) ? 0 : 1, name + ".weight")};
    if (op == OpKind::FusedMatMul && !biases.empty()) inputs.push_back(concat_constants(graph, biases, 0, name + ".bias"));
    return inputs;
  };
  rule.split_axis = -1;
  return rule;
}

}  // namespace

Result<bool> fuse_sibling_matmuls(ir::Graph& graph) {
  KILN_ASSIGN_OR_RETURN(bool fused, merge_siblings(graph, OpKind::FusedMatMul, rule_for(OpKind::FusedMatMul)));
  KILN_ASSIGN_OR_RETURN(bool plain, merge_siblings(graph, OpKind::MatMul, rule_for(OpKind::MatMul)));
  return fused || plain;
}

}  // namespace kiln::passes
