// The BatchNormalization must be in inference mode with every parameter a fixed constant, and
// the producer's output must be read by the BatchNormalization alone (the unnormalized value
// disappears). A MatMul gains a bias Add, which matmul fusion later absorbs.
#include "passes/fold/batch_norm_folding.h"

#include <cmath>
#include <vector>

#include "passes/pattern.h"

namespace kiln::passes {
namespace {

enum BatchNormInput : size_t { kBnX = 0, kScale = 1, kBias = 2, kMean = 3, kVar = 4 };
enum ProducerInput : size_t { kInput = 0, kWeight = 1, kProducerBias = 2 };
constexpr float kDefaultEpsilon = 1e-5f;
constexpr size_t kMatrixRank = 2;

// Per-channel y = x * factor + shift of an inference BatchNormalization.
struct Affine {
  std::vector<double> factor, shift;
};

std::optional<Affine> batch_norm_affine(const ir::Graph& graph, const ir::Node& bn) {
  if (bn.attrs().get_int("training_mode", 0) != 0) return std::nullopt;
  for (size_t i = 1; i < bn.outputs().size(); ++i)
    if (bn.output(i)) return std::nullopt;  // running statistics are read: training graph
  auto scale = constant_values(graph, bn.input(kScale));
  auto bias = constant_values(graph, bn.input(kBias));
  auto mean = constant_values(graph, bn.input(kMean));
  auto var = constant_values(graph, bn.input(kVar));
  if (!scale || !bias || !mean || !var) return std::nullopt;
  const size_t c = scale->size();
  if (bias->size() != c || mean->size() != c || var->size() != c) return std::nullopt;
  const double eps = bn.attrs().get_float("epsilon", kDefaultEpsilon);
  Affine a{std::vector<double>(c), std::vector<double>(c)};
  for (size_t i = 0; i < c; ++i) {
    a.factor[i] = (*scale)[i] / std::sqrt((*var)[i] + eps);
    a.shift[i] = (*bias)[i] - (*mean)[i] * a.factor[i];
  }
  return a;
}

// The producer's constant bias (zeros when absent) pushed through the affine map.
std::optional<std::vector<double>> folded_bias(const ir::Graph& graph, const ir::Value* bias, const Affine& a) {
  std::vector<double> b(a.factor.size(), 0.0);
  if (bias) {
    auto existing = constant_values(graph, bias);
    if (!existing) return std::nullopt;
    if (existing->size() == 1) existing->assign(b.size(), existing->front());
    if (existing->size() != b.size()) return std::nullopt;
    b = *existing;
  }
  for (size_t i = 0; i < b.size(); ++i) b[i] = b[i] * a.factor[i] + a.shift[i];
  return b;
}

// W' with every element of output channel `channel_of(i)` multiplied by its factor.
template <class ChannelOf>
Tensor scaled_weight(const ir::Graph& graph, const ir::Value* w, const Affine& a, ChannelOf channel_of) {
  std::vector<double> values = *constant_values(graph, w);
  for (size_t i = 0; i < values.size(); ++i) values[i] *= a.factor[channel_of(i)];
  return tensor_from_doubles(w->type().dtype, w->constant()->shape(), values);
}

bool fold_into_conv(ir::Graph& graph, ir::Node& conv, ir::Node& bn, const Affine& a) {
  const ir::Value* w = conv.input(kWeight);
  if (!constant_values(graph, w) || w->constant()->rank() < 1) return false;
  const Shape& ws = w->constant()->shape();
  if (ws[0] <= 0 || ws[0] != static_cast<int64_t>(a.factor.size())) return false;
  auto bias = folded_bias(graph, conv.input(kProducerBias), a);
  if (!bias) return false;
  const size_t per_channel = static_cast<size_t>(ws.numel() / ws[0]);
  Tensor new_w = scaled_weight(graph, w, a, [&](size_t i) { return i / per_channel; });
  ir::Value* w2 = graph.add_constant(conv.name() + ".folded_weight", std::move(new_w));
  ir::Value* b2 = graph.add_constant(conv.name() + ".folded_bias",
                                     tensor_from_doubles(w->type().dtype, Shape{ws[0]}, *bias));
  replace_chain(graph, {&conv, &bn}, OpKind::Conv, conv.name(), {conv.input(kInput), w2, b2}, bn.output(0), conv.attrs());
  return true;
}

// Gemm and MatMul outputs are [M, N]: BatchNormalization's channel axis 1 is the column.
bool fold_into_matrix(ir::Graph& graph, ir::Node& node, ir::Node& bn, const Affine& a) {
  const ir::Value* w = node.input(kWeight);
  if (!constant_values(graph, w) || w->constant()->rank() != kMatrixRank) return false;
  const bool gemm = node.op() == OpKind::Gemm;
  const Attributes& attrs = node.attrs();
  const bool trans_b = gemm && attrs.get_int("transB", 0) != 0;
  const Shape& ws = w->constant()->shape();
  const int64_t n = trans_b ? ws[0] : ws[1];
  if (n != static_cast<int64_t>(a.factor.size())) return false;
  if (gemm && node.input(kProducerBias) && attrs.get_float("beta", 1.0f) != 1.0f) return false;
  auto bias = folded_bias(graph, gemm ? node.input(kProducerBias) : nullptr, a);
  if (!bias) return false;
  const size_t cols = static_cast<size_t>(ws[1]);
  Tensor new_w = scaled_weight(graph, w, a, [&](size_t i) { return trans_b ? i / cols : i % cols; });
  // alpha scales only A*B, so W' = W * s stays exact whatever alpha is.
  ir::Value* w2 = graph.add_constant(node.name() + ".folded_weight", std::move(new_w));
  ir::Value* b2 = graph.add_constant(node.name() + ".folded_bias", tensor_from_doubles(w->type().dtype, Shape{n}, *bias));
  if (gemm) {
    Attributes folded = attrs;
    folded.erase("beta");
    replace_chain(graph, {&node, &bn}, OpKind::Gemm, node.name(), {node.input(kInput), w2, b2}, bn.output(0), folded);
    return true;
  }
  ir::Value* product = graph.add_value(node.name() + ".folded");
  graph.add_node(OpKind::MatMul, node.name(), {node.input(kInput), w2}, {product});
  replace_chain(graph, {&node, &bn}, OpKind::Add, bn.name(), {product, b2}, bn.output(0));
  return true;
}

}  // namespace

Result<bool> fold_batch_norms(ir::Graph& graph) {
  std::vector<ir::Node*> norms;
  for (const auto& node : graph.nodes())
    if (node->op() == OpKind::BatchNormalization) norms.push_back(node.get());
  bool changed = false;
  for (ir::Node* bn : norms) {
    ir::Value* x = bn->input(kBnX);
    ir::Node* producer = x ? x->producer() : nullptr;
    if (!producer || !only_read_by(graph, x, bn) || !bn->output(0)) continue;
    auto affine = batch_norm_affine(graph, *bn);
    if (!affine) continue;
    const bool matrix_output = x->type().shape && x->type().shape->size() == kMatrixRank;
    if (producer->op() == OpKind::Conv) changed = fold_into_conv(graph, *producer, *bn, *affine) || changed;
    else if ((producer->op() == OpKind::Gemm || producer->op() == OpKind::MatMul) && matrix_output)
      changed = fold_into_matrix(graph, *producer, *bn, *affine) || changed;
  }
  if (!changed) return false;
  KILN_RETURN_IF_ERROR(finish_rewrites(graph));
  return true;
}

}  // namespace kiln::passes
