// The chain after a Conv is absorbed greedily, each step only when the value it consumes is
// read by nothing else: a constant per-channel Add joins the bias B, an Add of a same-shape
// tensor becomes the residual Z, and an activation becomes the `activation` attribute.
#include "passes/fuse/conv_fusion.h"

#include <vector>

#include "core/fused_activation.h"
#include "passes/fuse/activation_match.h"
#include "passes/pattern.h"

namespace kiln::passes {
namespace {

enum ConvInput : size_t { kX = 0, kW = 1, kB = 2 };
constexpr size_t kChannelAxis = 1;

// The values of a constant that broadcasts along the channel axis of `y` only (one value, or
// one per channel), expanded to one per channel; nullopt for anything else.
std::optional<std::vector<double>> per_channel_constant(const ir::Graph& graph, const ir::Value* c, const ir::Value* y,
                                                        int64_t channels) {
  auto values = constant_values(graph, c);
  if (!values || !y->type().shape || c->type().dtype != y->type().dtype) return std::nullopt;
  const Shape& cs = c->constant()->shape();
  const size_t rank = y->type().shape->size();
  if (cs.rank() > rank) return std::nullopt;
  for (size_t d = 0; d < cs.rank(); ++d) {
    const size_t axis = rank - cs.rank() + d;
    if (cs[d] != 1 && !(axis == kChannelAxis && cs[d] == channels)) return std::nullopt;
  }
  if (values->size() == 1) return std::vector<double>(static_cast<size_t>(channels), values->front());
  return values;
}

ir::Node* sole_reader_of_kind(const ir::Graph& graph, const ir::Value* v, OpKind op) {
  ir::Node* n = sole_reader(graph, v);
  return n && n->op() == op ? n : nullptr;
}

struct ConvChain {
  std::vector<ir::Node*> nodes;
  ir::Value* bias = nullptr;
  ir::Value* residual = nullptr;
  FusedActivationSpec activation;
  ir::Value* result = nullptr;
};

// Folds a per-channel constant Add into the bias: B' = B + c.
void absorb_bias_add(ir::Graph& graph, const ir::Node& conv, ConvChain& chain) {
  ir::Node* add = sole_reader_of_kind(graph, chain.result, OpKind::Add);
  if (!add) return;
  const ir::Value* w = conv.input(kW);
  if (!w->type().shape || w->type().shape->empty() || !(*w->type().shape)[0].is_known()) return;
  const int64_t channels = (*w->type().shape)[0].value;
  auto added = per_channel_constant(graph, other_operand(*add, chain.result), chain.result, channels);
  if (!added) return;
  std::vector<double> bias(static_cast<size_t>(channels), 0.0);
  if (chain.bias) {
    auto existing = constant_values(graph, chain.bias);
    if (!existing || existing->size() != bias.size()) return;
    bias = *existing;
  }
  for (size_t i = 0; i < bias.size(); ++i) bias[i] += (*added)[i];
  chain.bias = graph.add_constant(conv.name() + ".fused_bias",
                                  tensor_from_doubles(chain.result->type().dtype, Shape{channels}, bias));
  chain.nodes.push_back(add);
  chain.result = add->output(0);
}

void absorb_residual_add(const ir::Graph& graph, ConvChain& chain) {
  ir::Node* add = residual_add(graph, chain.result);
  if (!add) return;
  chain.residual = other_operand(*add, chain.result);
  chain.nodes.push_back(add);
  chain.result = add->output(0);
}

}  // namespace

Result<bool> fuse_conv_chains(ir::Graph& graph) {
  std::vector<ir::Node*> convs;
  for (const auto& node : graph.nodes())
    if (node->op() == OpKind::Conv && node->output(0)) convs.push_back(node.get());
  for (ir::Node* conv : convs) {
    ConvChain chain{{conv}, conv->input(kB), nullptr, {}, conv->output(0)};
    absorb_bias_add(graph, *conv, chain);
    absorb_residual_add(graph, chain);
    absorb_activation(graph, chain);
    Attributes attrs = conv->attrs();
    set_fused_activation(attrs, chain.activation);
    std::vector<ir::Value*> inputs = {conv->input(kX), conv->input(kW), chain.bias};
    if (chain.residual) inputs.push_back(chain.residual);
    const std::string name = conv->name();
    replace_chain(graph, chain.nodes, OpKind::FusedConv, name, std::move(inputs), chain.result, std::move(attrs));
  }
  if (convs.empty()) return false;
  KILN_RETURN_IF_ERROR(finish_rewrites(graph));
  return true;
}

}  // namespace kiln::passes
