// Matching starts at each Softmax and walks back to the Q K^T product. K reaches the product
// transposed: the Transpose's permutation with its last two entries swapped gives K itself
// (exporters emit [0,2,3,1] on [B,S,H,D] after splitting heads, so K is [0,2,1,3] of the same
// tensor). When that permutation is not the identity a Transpose producing K is added, which a
// backend may fold into its attention kernel's strides.
#include "passes/fuse/attention_fusion.h"

#include <algorithm>
#include <numeric>
#include <vector>

#include "passes/pattern.h"

namespace kiln::passes {
namespace {

constexpr size_t kRank = 4;  // [batch, heads, sequence, head size]

struct Match {
  std::vector<ir::Node*> nodes;
  ir::Value* q = nullptr;
  ir::Value* k_source = nullptr;  // the Transpose input that K^T comes from
  std::vector<int64_t> k_perm;     // permutation of k_source that gives K
  ir::Value* v = nullptr;
  ir::Value* mask = nullptr;
  double scale = 1.0;
};

size_t rank_of(const ir::Value* v) { return v && v->type().shape ? v->type().shape->size() : 0; }

// When `value` = x / c or x * c with a scalar constant c and only `reader` reads it: multiplies
// the scale by c (or 1 / c), records the node and returns x. Otherwise returns `value`.
ir::Value* strip_scale(const ir::Graph& graph, ir::Value* value, const ir::Node* reader, Match& m) {
  ir::Node* n = value ? value->producer() : nullptr;
  if (!n || !only_read_by(graph, value, reader)) return value;
  if (n->op() == OpKind::Div) {
    auto c = scalar_constant(graph, n->input(1));
    if (!c || *c == 0.0) return value;
    m.scale /= *c;
    m.nodes.push_back(n);
    return n->input(0);
  }
  if (n->op() != OpKind::Mul) return value;
  for (size_t i = 0; i < 2; ++i) {
    if (auto c = scalar_constant(graph, n->input(1 - i))) {
      m.scale *= *c;
      m.nodes.push_back(n);
      return n->input(i);
    }
  }
  return value;
}

// Q K^T behind `scores` (read only by `reader`), with scale factors on the way. Fills q and k.
bool match_scores(const ir::Graph& graph, ir::Value* scores, const ir::Node* reader, Match& m) {
  ir::Node* scaled_reader = scores ? scores->producer() : nullptr;
  ir::Value* product = strip_scale(graph, scores, reader, m);
  if (product != scores) reader = scaled_reader;
  ir::Node* qk = producer_of(product, OpKind::MatMul);
  if (!qk || !only_read_by(graph, product, reader)) return false;
  m.nodes.push_back(qk);
  m.q = strip_scale(graph, qk->input(0), qk, m);
  ir::Node* k_reader = qk;
  ir::Value* k_t = qk->input(1);
  ir::Node* k_t_scale = k_t ? k_t->producer() : nullptr;
  ir::Value* unscaled = strip_scale(graph, k_t, qk, m);
  if (unscaled != k_t) k_reader = k_t_scale;
  ir::Node* transpose = producer_of(unscaled, OpKind::Transpose);
  if (!transpose || rank_of(transpose->input(0)) != kRank) return false;
  std::vector<int64_t> perm(kRank);
  std::iota(perm.begin(), perm.end(), 0);
  std::reverse(perm.begin(), perm.end());  // Transpose's default: reverse the axes
  perm = transpose->attrs().get_ints("perm", perm);
  if (perm.size() != kRank) return false;
  std::swap(perm[kRank - 1], perm[kRank - 2]);
  m.k_perm = perm;
  m.k_source = transpose->input(0);
  // The Transpose (and a scale before it) goes too when nothing else reads K^T; otherwise it
  // stays for its readers.
  if (only_read_by(graph, unscaled, k_reader)) {
    m.nodes.push_back(transpose);
    m.k_source = strip_scale(graph, transpose->input(0), transpose, m);
  }
  return true;
}

bool is_last_axis_softmax(const ir::Node& softmax) {
  const size_t rank = rank_of(softmax.input(0));
  const int64_t axis = softmax.attrs().get_int("axis", -1);
  return rank == kRank && (axis == -1 || axis == static_cast<int64_t>(kRank) - 1);
}

// ScaledDotProductAttention broadcasts the mask to the scores, never the scores to the mask, so
// the Add must not have grown the scores. Rejected when the types show it could: a mask dim
// other than 1 where the scores dim is 1. Dims unknown on both sides are taken to match (BERT's
// [batch, 1, 1, sequence] mask against head-split scores); the reference kernel checks them.
bool fits_mask(const ir::Value* mask, const ir::Value* q, const ir::Value* scores) {
  if (!mask || mask->type().dtype != q->type().dtype || !mask->type().shape || !scores->type().shape) return false;
  const ir::SymShape& m = *mask->type().shape;
  const ir::SymShape& s = *scores->type().shape;
  if (m.size() > kRank || s.size() != kRank) return false;
  for (size_t d = 0; d < m.size(); ++d) {
    const ir::Dim& md = m[d];
    const ir::Dim& sd = s[kRank - m.size() + d];
    if (md.is_known() && md.value == 1) continue;
    if (sd.is_known() && sd.value == 1) return false;
    if (md.is_known() && sd.is_known() && md.value != sd.value) return false;
  }
  return true;
}

std::optional<Match> match_attention(const ir::Graph& graph, ir::Node& softmax) {
  if (!is_last_axis_softmax(softmax)) return std::nullopt;
  ir::Node* out = sole_reader(graph, softmax.output(0));
  if (!out || out->op() != OpKind::MatMul || out->input(0) != softmax.output(0)) return std::nullopt;
  Match m;
  m.nodes = {&softmax, out};
  m.v = out->input(1);
  ir::Value* scores = softmax.input(0);
  ir::Node* add = producer_of(scores, OpKind::Add);
  if (add && only_read_by(graph, scores, &softmax)) {
    for (size_t i = 0; i < 2; ++i) {
      Match attempt = m;
      attempt.nodes.push_back(add);
      if (!match_scores(graph, add->input(i), add, attempt) || !fits_mask(add->input(1 - i), attempt.q, add->input(i)))
        continue;
      attempt.mask = add->input(1 - i);
      return attempt;
    }
  }
  if (!match_scores(graph, scores, &softmax, m)) return std::nullopt;
  return m;
}

bool is_identity(const std::vector<int64_t>& perm) {
  for (size_t i = 0; i < perm.size(); ++i)
    if (perm[i] != static_cast<int64_t>(i)) return false;
  return true;
}

}  // namespace

Result<bool> fuse_attention(ir::Graph& graph) {
  std::vector<ir::Node*> softmaxes;
  for (const auto& node : graph.nodes())
    if (node->op() == OpKind::Softmax) softmaxes.push_back(node.get());
  bool changed = false;
  for (ir::Node* softmax : softmaxes) {
    std::optional<Match> m = match_attention(graph, *softmax);
    if (!m || rank_of(m->q) != kRank || rank_of(m->v) != kRank) continue;
    const std::string name = softmax->name();
    ir::Node* out = m->nodes[1];
    ir::Value* k = m->k_source;
    if (!is_identity(m->k_perm)) {
      k = graph.add_value(name + ".key");
      Attributes perm;
      perm.set("perm", m->k_perm);
      graph.add_node(OpKind::Transpose, name + ".key", {m->k_source}, {k}, std::move(perm));
    }
    Attributes attrs;
    attrs.set("scale", static_cast<float>(m->scale));
    replace_chain(graph, m->nodes, OpKind::ScaledDotProductAttention, name, {m->q, k, m->v, m->mask}, out->output(0),
                  std::move(attrs));
    changed = true;
  }
  if (!changed) return false;
  KILN_RETURN_IF_ERROR(finish_rewrites(graph));
  return true;
}

}  // namespace kiln::passes
