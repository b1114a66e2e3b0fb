// A MatMul is only rewritten when something joins it (a bias, a residual or an activation): a
// bare MatMul is already one kernel. A residual is an Add of a tensor of the product's exact
// shape after the bias (a transformer's `x + dense(h)` before its LayerNorm): it becomes Z, added
// in the GEMM's epilogue instead of a pass over memory of its own. Every qualifying Gemm is rewritten, so backends need not implement
// Gemm's alpha/beta/transA for the common case.
#include "passes/fuse/matmul_fusion.h"

#include <vector>

#include "core/fused_activation.h"
#include "passes/fuse/activation_match.h"
#include "passes/pattern.h"

namespace kiln::passes {
namespace {

enum Input : size_t { kA = 0, kB = 1, kC = 2 };
constexpr size_t kMinRank = 2;

struct MatMulChain {
  std::vector<ir::Node*> nodes;
  ir::Value* bias = nullptr;
  ir::Value* residual = nullptr;
  FusedActivationSpec activation;
  ir::Value* result = nullptr;
  int64_t n = -1;  // output columns, -1 when unknown
};

size_t rank_of(const ir::Value* v) { return v && v->type().shape ? v->type().shape->size() : 0; }

int64_t last_dim(const ir::Value* v) {
  if (!v->type().shape || v->type().shape->empty()) return -1;
  const ir::Dim& d = v->type().shape->back();
  return d.is_known() ? d.value : -1;
}

// `value` as a bias of `n` elements: a 1-D [n] value as it is, a constant whose only non-1 dim
// is the last (and no higher rank than the output) reshaped to [n]; nullptr otherwise.
ir::Value* as_bias(ir::Graph& graph, ir::Value* value, const MatMulChain& chain, const std::string& name) {
  if (!value || chain.n < 0 || value->type().dtype != chain.result->type().dtype || !value->type().shape) return nullptr;
  const ir::SymShape& s = *value->type().shape;
  if (s.size() == 1 && s[0].is_known() && s[0].value == chain.n) return value;
  auto values = constant_values(graph, value);
  if (!values || values->size() != static_cast<size_t>(chain.n) || s.size() > rank_of(chain.result)) return nullptr;
  for (size_t d = 0; d + 1 < s.size(); ++d)
    if (s[d].value != 1) return nullptr;
  return graph.add_constant(name + ".bias", tensor_from_doubles(value->type().dtype, Shape{chain.n}, *values));
}

// Sums two constant biases (a Gemm's C and a following Add); nullptr when either is computed.
ir::Value* add_biases(ir::Graph& graph, const ir::Value* a, const ir::Value* b, const std::string& name) {
  auto x = constant_values(graph, a);
  auto y = constant_values(graph, b);
  if (!x || !y || x->size() != y->size()) return nullptr;
  for (size_t i = 0; i < x->size(); ++i) (*x)[i] += (*y)[i];
  return graph.add_constant(name + ".bias", tensor_from_doubles(a->type().dtype, Shape{static_cast<int64_t>(x->size())}, *x));
}

void absorb_bias_add(ir::Graph& graph, const std::string& name, MatMulChain& chain) {
  ir::Node* add = sole_reader(graph, chain.result);
  if (!add || add->op() != OpKind::Add) return;
  ir::Value* bias = as_bias(graph, other_operand(*add, chain.result), chain, name);
  if (!bias) return;
  if (chain.bias) bias = add_biases(graph, chain.bias, bias, name);
  if (!bias) return;
  chain.bias = bias;
  chain.nodes.push_back(add);
  chain.result = add->output(0);
}

void absorb_residual_add(const ir::Graph& graph, MatMulChain& chain) {
  ir::Node* add = residual_add(graph, chain.result);
  if (!add) return;
  chain.residual = other_operand(*add, chain.result);
  chain.nodes.push_back(add);
  chain.result = add->output(0);
}

bool is_float(DType d) { return d == DType::kFloat32 || d == DType::kFloat16 || d == DType::kBFloat16 || d == DType::kFloat64; }

// Whether `node` can start a chain, and its trans_b; Gemm's C becomes the first bias.
bool start_chain(ir::Graph& graph, ir::Node& node, MatMulChain& chain, int64_t& trans_b) {
  if (rank_of(node.input(kA)) < kMinRank || rank_of(node.input(kB)) < kMinRank) return false;
  if (!is_float(node.input(kA)->type().dtype)) return false;
  chain = MatMulChain{.nodes = {&node}, .result = node.output(0), .n = last_dim(node.output(0))};
  trans_b = 0;
  if (node.op() == OpKind::MatMul) return true;
  const Attributes& a = node.attrs();
  if (a.get_float("alpha", 1.0f) != 1.0f || a.get_int("transA", 0) != 0) return false;
  trans_b = a.get_int("transB", 0) != 0 ? 1 : 0;
  if (ir::Value* c = node.input(kC)) {
    if (a.get_float("beta", 1.0f) != 1.0f) return false;
    chain.bias = as_bias(graph, c, chain, node.name());
    if (!chain.bias) return false;
  }
  return true;
}

}  // namespace

Result<bool> fuse_matmul_chains(ir::Graph& graph) {
  std::vector<ir::Node*> candidates;
  for (const auto& node : graph.nodes())
    if ((node->op() == OpKind::MatMul || node->op() == OpKind::Gemm) && node->output(0)) candidates.push_back(node.get());
  bool changed = false;
  for (ir::Node* node : candidates) {
    MatMulChain chain;
    int64_t trans_b = 0;
    if (!start_chain(graph, *node, chain, trans_b)) continue;
    const std::string name = node->name();
    absorb_bias_add(graph, name, chain);
    absorb_residual_add(graph, chain);
    absorb_activation(graph, chain);
    if (node->op() == OpKind::MatMul && chain.nodes.size() == 1) continue;
    Attributes attrs;
    if (trans_b) attrs.set("trans_b", trans_b);
    set_fused_activation(attrs, chain.activation);
    std::vector<ir::Value*> inputs = {node->input(kA), node->input(kB), chain.bias};
    if (chain.residual) inputs.push_back(chain.residual);
    replace_chain(graph, chain.nodes, OpKind::FusedMatMul, name, std::move(inputs), chain.result, std::move(attrs));
    changed = true;
  }
  if (!changed) return false;
  KILN_RETURN_IF_ERROR(finish_rewrites(graph));
  return true;
}

}  // namespace kiln::passes
