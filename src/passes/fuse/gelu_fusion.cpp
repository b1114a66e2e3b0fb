// Matching starts at the Erf (or Tanh) node and walks outwards: its argument identifies x, and
// its result must be used as 0.5 * x * (1 + result) in one of the three groupings exporters
// produce: ((x * (1 + e)) * 0.5), ((x * 0.5) * (1 + e)) or (x * ((1 + e) * 0.5)).
#include "passes/fuse/gelu_fusion.h"

#include <cmath>
#include <numbers>
#include <vector>

#include "passes/pattern.h"

namespace kiln::passes {
namespace {

// Exporters print these constants with 4 to 8 significant digits.
constexpr double kConstantTolerance = 1e-3;
constexpr double kHalf = 0.5;
constexpr double kCubicCoefficient = 0.044715;
constexpr double kCube = 3.0;

struct Match {
  ir::Value* x = nullptr;
  std::vector<ir::Node*> nodes;  // every node to remove, the last one producing the result
};

bool is_op(const ir::Node* n, OpKind op) { return n && n->op() == op; }

// The operand of Mul `n` that is not a constant near `c` (nullptr when neither operand is).
ir::Value* times_constant(const ir::Graph& graph, const ir::Node* n, double c) {
  if (!is_op(n, OpKind::Mul)) return nullptr;
  if (is_scalar_near(graph, n->input(1), c, kConstantTolerance)) return n->input(0);
  if (is_scalar_near(graph, n->input(0), c, kConstantTolerance)) return n->input(1);
  return nullptr;
}

// x / sqrt(2) or x * (1 / sqrt(2)): returns x.
ir::Value* erf_argument(const ir::Graph& graph, const ir::Node* n) {
  if (is_op(n, OpKind::Div) && is_scalar_near(graph, n->input(1), std::numbers::sqrt2, kConstantTolerance))
    return n->input(0);
  return times_constant(graph, n, 1.0 / std::numbers::sqrt2);
}

// Completes a match from `one_plus` = 1 + f(x): finds 0.5 * x * one_plus. Appends the nodes.
bool match_half_x_times(const ir::Graph& graph, ir::Value* x, ir::Value* one_plus, Match& m) {
  ir::Node* mul = sole_reader(graph, one_plus);
  if (!is_op(mul, OpKind::Mul)) return false;
  ir::Value* other = other_operand(*mul, one_plus);
  if (other == x) {  // (x * (1 + e)) * 0.5
    ir::Node* half = sole_reader(graph, mul->output(0));
    if (times_constant(graph, half, kHalf) != mul->output(0)) return false;
    m.nodes.insert(m.nodes.end(), {mul, half});
    return true;
  }
  ir::Node* half_x = other ? other->producer() : nullptr;
  if (half_x && times_constant(graph, half_x, kHalf) == x && only_read_by(graph, other, mul)) {  // (x * 0.5) * (1 + e)
    m.nodes.insert(m.nodes.end(), {half_x, mul});
    return true;
  }
  if (times_constant(graph, mul, kHalf) == one_plus) {  // x * ((1 + e) * 0.5)
    ir::Node* times_x = sole_reader(graph, mul->output(0));
    if (!is_op(times_x, OpKind::Mul) || other_operand(*times_x, mul->output(0)) != x) return false;
    m.nodes.insert(m.nodes.end(), {mul, times_x});
    return true;
  }
  return false;
}

// 1 + f where f is the output of `f_node`; returns the sum.
ir::Value* one_plus(const ir::Graph& graph, const ir::Node& f_node, Match& m) {
  ir::Node* add = sole_reader(graph, f_node.output(0));
  if (!is_op(add, OpKind::Add) || !is_scalar_near(graph, other_operand(*add, f_node.output(0)), 1.0, kConstantTolerance))
    return nullptr;
  m.nodes.push_back(add);
  return add->output(0);
}

std::optional<Match> match_erf(const ir::Graph& graph, ir::Node& erf) {
  Match m;
  ir::Node* scaled = erf.input(0) ? erf.input(0)->producer() : nullptr;
  m.x = erf_argument(graph, scaled);
  if (!m.x || !only_read_by(graph, erf.input(0), &erf)) return std::nullopt;
  m.nodes = {scaled, &erf};
  ir::Value* sum = one_plus(graph, erf, m);
  if (!sum || !match_half_x_times(graph, m.x, sum, m)) return std::nullopt;
  return m;
}

// x^3 as Pow(x, 3), x * (x * x) or (x * x) * x; appends its nodes.
bool is_cube_of(const ir::Graph& graph, const ir::Value* v, const ir::Value* x, std::vector<ir::Node*>& nodes) {
  ir::Node* n = v ? v->producer() : nullptr;
  if (!n) return false;
  if (n->op() == OpKind::Pow && n->input(0) == x && is_scalar_near(graph, n->input(1), kCube, 0.0)) {
    nodes.push_back(n);
    return true;
  }
  if (n->op() != OpKind::Mul) return false;
  ir::Value* square = other_operand(*n, x);
  ir::Node* sq = square ? square->producer() : nullptr;
  if (!is_op(sq, OpKind::Mul) || sq->input(0) != x || sq->input(1) != x || !only_read_by(graph, square, n)) return false;
  nodes.insert(nodes.end(), {sq, n});
  return true;
}

// x + 0.044715 * x^3, for either operand order of the Add; sets m.x.
bool match_inner_polynomial(const ir::Graph& graph, const ir::Node& add, Match& m) {
  for (size_t i = 0; i < 2; ++i) {
    ir::Value* x = add.input(i);
    ir::Value* term = add.input(1 - i);
    ir::Node* scale = term ? term->producer() : nullptr;
    ir::Value* cube = times_constant(graph, scale, kCubicCoefficient);
    std::vector<ir::Node*> nodes;
    if (!cube || !only_read_by(graph, term, &add) || !only_read_by(graph, cube, scale) ||
        !is_cube_of(graph, cube, x, nodes))
      continue;
    m.x = x;
    m.nodes.insert(m.nodes.end(), nodes.begin(), nodes.end());
    m.nodes.push_back(scale);
    return true;
  }
  return false;
}

std::optional<Match> match_tanh(const ir::Graph& graph, ir::Node& tanh) {
  Match m;
  ir::Node* scaled = tanh.input(0) ? tanh.input(0)->producer() : nullptr;
  ir::Value* inner = times_constant(graph, scaled, std::sqrt(2.0 / std::numbers::pi));
  ir::Node* add = inner ? inner->producer() : nullptr;
  if (!is_op(add, OpKind::Add) || !only_read_by(graph, tanh.input(0), &tanh) || !only_read_by(graph, inner, scaled))
    return std::nullopt;
  if (!match_inner_polynomial(graph, *add, m)) return std::nullopt;
  m.nodes.insert(m.nodes.end(), {add, scaled, &tanh});
  ir::Value* sum = one_plus(graph, tanh, m);
  if (!sum || !match_half_x_times(graph, m.x, sum, m)) return std::nullopt;
  return m;
}

}  // namespace

Result<bool> fuse_gelu(ir::Graph& graph) {
  std::vector<ir::Node*> starts;
  for (const auto& node : graph.nodes())
    if (node->op() == OpKind::Erf || node->op() == OpKind::Tanh) starts.push_back(node.get());
  bool changed = false;
  for (ir::Node* start : starts) {
    const bool erf = start->op() == OpKind::Erf;
    std::optional<Match> m = erf ? match_erf(graph, *start) : match_tanh(graph, *start);
    if (!m) continue;
    ir::Node* last = m->nodes.back();
    Attributes attrs;
    attrs.set("approximate", std::string(erf ? "none" : "tanh"));
    replace_chain(graph, m->nodes, OpKind::Gelu, last->name(), {m->x}, last->output(0), std::move(attrs));
    changed = true;
  }
  if (!changed) return false;
  KILN_RETURN_IF_ERROR(finish_rewrites(graph));
  return true;
}

}  // namespace kiln::passes
