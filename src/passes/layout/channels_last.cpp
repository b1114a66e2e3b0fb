// Channels-last execution for conv nets: cuDNN's FP16 tensor-core convolutions want NHWC, and a
// whole ResNet runs NHWC with one Transpose after the input and one before the classifier.
// Each op is rewritten locally with Transposes around it; the Transpose back from one op and the
// Transpose into the next compose to the identity, so cancel_transposes leaves only the
// Transposes at the borders of a conv region. Not in the default pipeline: backends without
// channels_last kernels would only pay for the Transposes (pipeline.h, channels_last).
#include "passes/layout/channels_last.h"

#include <array>
#include <string>
#include <vector>

#include "core/channels_last.h"
#include "passes/graph_rewrite.h"
#include "passes/layout/permuted_constant.h"
#include "passes/layout/transpose_cancellation.h"
#include "passes/pattern.h"

namespace kiln::passes {
namespace {

enum ConvInput : size_t { kX = 0, kW = 1, kB = 2, kZ = 3 };
constexpr size_t kIndicesOutput = 1;

bool rank4(const ir::Value* v) { return v && v->type().shape && v->type().shape->size() == kChannelsLastRank; }

bool already_channels_last(const ir::Node& n) { return n.attrs().get_int(kChannelsLastAttr, 0) != 0; }

bool eligible(const ir::Graph& graph, const ir::Node& n) {
  if (already_channels_last(n) || !rank4(n.input(kX)) || !rank4(n.output(0))) return false;
  switch (n.op()) {
    case OpKind::FusedConv:
      return is_fixed_constant(graph, n.input(kW)) && n.input(kW)->constant()->rank() == kChannelsLastRank &&
             (!n.input(kZ) || rank4(n.input(kZ)));
    case OpKind::MaxPool:
      // Indices are NCHW offsets; such a pool stays as it is.
      return n.output(kIndicesOutput) == nullptr;
    case OpKind::AveragePool:
    case OpKind::GlobalAveragePool:
      return true;
    default:
      return false;
  }
}

ir::Value* to_channels_last(ir::Graph& graph, ir::Value* v, const std::string& node_name) {
  ir::Value* out = graph.add_value(v->name() + "_nhwc");
  graph.add_node(OpKind::Transpose, node_name + "/to_nhwc", {v}, {out}, perm_attrs(kToChannelsLast));
  return out;
}

void rewrite(ir::Graph& graph, ir::Node* node) {
  const OpKind op = node->op();
  const std::string name = node->name();
  std::vector<ir::Value*> inputs = node->inputs();
  ir::Value* y = node->output(0);
  Attributes attrs = node->attrs();
  attrs.set(kChannelsLastAttr, int64_t{1});
  inputs[kX] = to_channels_last(graph, inputs[kX], name);
  if (op == OpKind::FusedConv) {
    inputs[kW] = graph.add_constant(inputs[kW]->name() + "_nhwc",
                                      permuted_constant(*inputs[kW]->constant(), kToChannelsLast));
    if (inputs.size() > kZ && inputs[kZ]) inputs[kZ] = to_channels_last(graph, inputs[kZ], name + "/z");
  }
  graph.remove_node(node);
  ir::Value* y_nhwc = graph.add_value(y->name() + "_nhwc");
  graph.add_node(op, name, std::move(inputs), {y_nhwc}, std::move(attrs));
  // The original output value (its name and its readers) now comes from the Transpose back.
  graph.add_node(OpKind::Transpose, name + "/to_nchw", {y_nhwc}, {y}, perm_attrs(kToChannelsFirst));
}

}  // namespace

Result<bool> convert_to_channels_last(ir::Graph& graph) {
  std::vector<ir::Node*> targets;
  for (const auto& node : graph.nodes())
    if (eligible(graph, *node)) targets.push_back(node.get());
  if (targets.empty()) return false;
  for (ir::Node* node : targets) rewrite(graph, node);
  KILN_RETURN_IF_ERROR(finish_rewrites(graph));
  KILN_RETURN_IF_ERROR(cancel_transposes(graph).status());
  return true;
}

}  // namespace kiln::passes
