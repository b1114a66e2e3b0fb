// Matching starts at each Div and walks back through the denominator; the centred value d must
// be read only by the square and the Div, and every other intermediate only by the next step.
#include "passes/fuse/layer_norm_fusion.h"

#include <vector>

#include "passes/graph_rewrite.h"
#include "passes/pattern.h"

namespace kiln::passes {
namespace {

constexpr double kSquareExponent = 2.0;
enum ReduceInput : size_t { kData = 0, kAxes = 1 };

struct Match {
  std::vector<ir::Node*> nodes;
  ir::Value* x = nullptr;
  double epsilon = 0.0;
  ir::Value* scale = nullptr;
  ir::Value* bias = nullptr;
  ir::Value* result = nullptr;
};

size_t rank_of(const ir::Value* v) { return v && v->type().shape ? v->type().shape->size() : 0; }

// ReduceMean over the last axis only, keeping dims.
bool is_last_axis_mean(const ir::Graph& graph, const ir::Node* n) {
  if (!n || n->op() != OpKind::ReduceMean || n->attrs().get_int("keepdims", 1) != 1) return false;
  auto axes = constant_values(graph, n->input(kAxes));
  const size_t rank = rank_of(n->input(kData));
  return rank > 0 && axes && axes->size() == 1 &&
         ((*axes)[0] == -1 || (*axes)[0] == static_cast<double>(rank - 1));
}

bool is_square_of(const ir::Graph& graph, const ir::Node* n, const ir::Value* d) {
  if (!n) return false;
  if (n->op() == OpKind::Pow) return n->input(0) == d && is_scalar_near(graph, n->input(1), kSquareExponent, 0.0);
  return n->op() == OpKind::Mul && n->input(0) == d && n->input(1) == d;
}

// Nothing but the nodes `a` and `b` reads `v`, and it is no graph output.
bool read_only_by(const ir::Graph& graph, const ir::Value* v, const ir::Node* a, const ir::Node* b) {
  if (!v || is_graph_output(graph, v)) return false;
  for (ir::Node* n : graph.consumers(v))
    if (n != a && n != b) return false;
  return true;
}

// `value` as a per-feature parameter of `features` elements: a 1-D [features] value as it is,
// a constant with that many elements (leading dims 1) reshaped to 1-D; nullptr otherwise.
ir::Value* as_feature_vector(ir::Graph& graph, ir::Value* value, int64_t features, DType dtype, const std::string& name) {
  if (!value || value->type().dtype != dtype || !value->type().shape) return nullptr;
  const ir::SymShape& s = *value->type().shape;
  if (s.size() == 1 && s[0].is_known() && s[0].value == features) return value;
  auto values = constant_values(graph, value);
  if (!values || values->size() != static_cast<size_t>(features)) return nullptr;
  return graph.add_constant(name, tensor_from_doubles(dtype, Shape{features}, *values));
}

// d / Sqrt(ReduceMean(d^2) + eps) with d = x - ReduceMean(x), ending at `div`.
std::optional<Match> match_normalization(const ir::Graph& graph, ir::Node& div) {
  ir::Value* d = div.input(0);
  ir::Node* sqrt = producer_of(div.input(1), OpKind::Sqrt);
  ir::Node* sub = producer_of(d, OpKind::Sub);
  if (!sqrt || !sub || !only_read_by(graph, div.input(1), &div)) return std::nullopt;
  ir::Node* add_eps = producer_of(sqrt->input(0), OpKind::Add);
  if (!add_eps || !only_read_by(graph, sqrt->input(0), sqrt)) return std::nullopt;
  Match m;
  for (size_t i = 0; i < 2 && !m.x; ++i) {
    auto eps = scalar_constant(graph, add_eps->input(1 - i));
    ir::Node* variance = add_eps->input(i) ? add_eps->input(i)->producer() : nullptr;
    if (!eps || !is_last_axis_mean(graph, variance) || !only_read_by(graph, add_eps->input(i), add_eps)) continue;
    ir::Node* square = variance->input(kData)->producer();
    if (!is_square_of(graph, square, d) || !only_read_by(graph, variance->input(kData), variance)) continue;
    ir::Node* mean = producer_of(sub->input(1), OpKind::ReduceMean);
    if (!is_last_axis_mean(graph, mean) || mean->input(kData) != sub->input(0) || !only_read_by(graph, sub->input(1), sub))
      continue;
    if (!read_only_by(graph, d, square, &div)) continue;
    m.x = sub->input(0);
    m.epsilon = *eps;
    m.nodes = {mean, sub, square, variance, add_eps, sqrt, &div};
  }
  if (!m.x) return std::nullopt;
  m.result = div.output(0);
  return m;
}

// An optional Mul by the scale then an optional Add of the bias, each a per-feature vector.
void match_affine(ir::Graph& graph, Match& m, int64_t features) {
  const DType dtype = m.x->type().dtype;
  const std::string name = m.nodes.back()->name();
  ir::Node* mul = sole_reader(graph, m.result);
  if (mul && mul->op() == OpKind::Mul) {
    if (ir::Value* scale = as_feature_vector(graph, other_operand(*mul, m.result), features, dtype, name + ".scale")) {
      m.scale = scale;
      m.nodes.push_back(mul);
      m.result = mul->output(0);
    }
  }
  ir::Node* add = sole_reader(graph, m.result);
  if (add && add->op() == OpKind::Add) {
    if (ir::Value* bias = as_feature_vector(graph, other_operand(*add, m.result), features, dtype, name + ".bias")) {
      m.bias = bias;
      m.nodes.push_back(add);
      m.result = add->output(0);
    }
  }
}

}  // namespace

Result<bool> fuse_layer_norms(ir::Graph& graph) {
  std::vector<ir::Node*> divs;
  for (const auto& node : graph.nodes())
    if (node->op() == OpKind::Div) divs.push_back(node.get());
  bool changed = false;
  for (ir::Node* div : divs) {
    std::optional<Match> m = match_normalization(graph, *div);
    if (!m) continue;
    const ir::SymShape& shape = *m->x->type().shape;
    const int64_t features = shape.back().is_known() ? shape.back().value : -1;
    if (features < 0) continue;  // the ones for an absent scale need the size
    match_affine(graph, *m, features);
    if (!m->scale) {
      m->scale = graph.add_constant(div->name() + ".scale",
                                    tensor_from_doubles(m->x->type().dtype, Shape{features},
                                                        std::vector<double>(static_cast<size_t>(features), 1.0)));
    }
    Attributes attrs;
    attrs.set("axis", int64_t{-1});
    attrs.set("epsilon", static_cast<float>(m->epsilon));
    const std::string name = m->nodes.back()->name();
    replace_chain(graph, m->nodes, OpKind::LayerNormalization, name, {m->x, m->scale, m->bias}, m->result, std::move(attrs));
    changed = true;
  }
  if (!changed) return false;
  KILN_RETURN_IF_ERROR(finish_rewrites(graph));
  return true;
}

}  // namespace kiln::passes
