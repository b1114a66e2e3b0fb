// Conversions are written as Reshape + Transpose, standard ops every backend runs, so a blocked
// graph stays checkable against the reference backend node by node.
#include "passes/layout/channel_blocking.h"

#include <array>
#include <map>
#include <string>
#include <vector>

#include "core/channel_block.h"
#include "core/channels_last.h"
#include "passes/graph_rewrite.h"
#include "passes/layout/permuted_constant.h"
#include "passes/layout/reshape_cancellation.h"
#include "passes/layout/transpose_cancellation.h"
#include "passes/pattern.h"

namespace kiln::passes {
namespace {

enum ConvInput : size_t { kX = 0, kW = 1, kZ = 3 };
// [N, H, W, C/b, b] <-> [N, C/b, H, W, b].
constexpr std::array<int64_t, kChannelBlockedRank> kSplitToBlocked = {0, 3, 1, 2, 4};
constexpr std::array<int64_t, kChannelBlockedRank> kBlockedToSplit = {0, 2, 3, 1, 4};
// Bound on cancellation sweeps; each sweep removes whole pairs, two suffice for ResNet.
constexpr int kMaxCancellationSweeps = 8;

bool blockable_nhwc(const ir::Value* v) {
  auto s = static_shape(v);
  return s && s->rank() == kChannelsLastRank && (*s)[3] > 0 && (*s)[3] % kChannelBlock == 0;
}

bool eligible(const ir::Graph& graph, const ir::Node& n) {
  if (n.op() != OpKind::FusedConv || n.attrs().get_int(kChannelsLastAttr, 0) != 1 ||
      n.attrs().get_int(kChannelBlockAttr, 0) != 0 || n.attrs().get_int("group", 1) != 1)
    return false;
  if (!blockable_nhwc(n.input(kX)) || !blockable_nhwc(n.output(0))) return false;
  if (n.inputs().size() > kZ && n.input(kZ) && !blockable_nhwc(n.input(kZ))) return false;
  for (size_t o = 1; o < n.outputs().size(); ++o)
    if (n.output(o)) return false;
  return is_fixed_constant(graph, n.input(kW)) && n.input(kW)->constant()->rank() == kChannelsLastRank;
}

ir::Value* shape_constant(ir::Graph& graph, const std::string& name, const std::vector<int64_t>& dims) {
  return graph.add_constant(name, Tensor::from_vector<int64_t>(DType::kInt64, Shape{static_cast<int64_t>(dims.size())}, dims));
}

// Blocked twins of values already converted: a value read by two blocked convs (a bottleneck's
// input, read by its first conv and its downsample) is converted once.
using BlockedTwins = std::map<const ir::Value*, ir::Value*>;

// NHWC v -> [N, C/16, H, W, 16].
ir::Value* to_blocked(ir::Graph& graph, ir::Value* v, const std::string& name, BlockedTwins& twins) {
  if (auto it = twins.find(v); it != twins.end()) return it->second;
  const Shape s = *static_shape(v);
  ir::Value* split = graph.add_value(v->name() + "_split16");
  graph.add_node(OpKind::Reshape, name + "/split16",
                 {v, shape_constant(graph, name + "/split16_shape", {s[0], s[1], s[2], s[3] / kChannelBlock, kChannelBlock})},
                 {split});
  ir::Value* blocked = graph.add_value(v->name() + "_blocked16");
  graph.add_node(OpKind::Transpose, name + "/to_blocked16", {split}, {blocked}, perm_attrs(kSplitToBlocked));
  twins[v] = blocked;
  return blocked;
}

void rewrite(ir::Graph& graph, ir::Node* node, BlockedTwins& twins) {
  const OpKind op = node->op();
  const std::string name = node->name();
  std::vector<ir::Value*> inputs = node->inputs();
  ir::Value* y = node->output(0);
  const Shape y_shape = *static_shape(y);
  Attributes attrs = node->attrs();
  attrs.erase(kChannelsLastAttr);
  attrs.set(kChannelBlockAttr, kChannelBlock);
  inputs[kX] = to_blocked(graph, inputs[kX], name, twins);
  inputs[kW] = graph.add_constant(inputs[kW]->name() + "_oihw",
                                  permuted_constant(*inputs[kW]->constant(), kToChannelsFirst));
  if (inputs.size() > kZ && inputs[kZ]) inputs[kZ] = to_blocked(graph, inputs[kZ], name + "/z", twins);
  graph.remove_node(node);
  ir::Value* y_blocked = graph.add_value(y->name() + "_blocked16");
  graph.add_node(op, name, std::move(inputs), {y_blocked}, std::move(attrs));
  ir::Value* y_split = graph.add_value(y->name() + "_split16");
  graph.add_node(OpKind::Transpose, name + "/from_blocked16", {y_blocked}, {y_split}, perm_attrs(kBlockedToSplit));
  // The original output value (its name and its readers) now comes from the Reshape back.
  graph.add_node(OpKind::Reshape, name + "/merge16",
                 {y_split, shape_constant(graph, name + "/merge16_shape", y_shape.dims())}, {y});
}

}  // namespace

Result<bool> convert_to_channel_blocked(ir::Graph& graph) {
  std::vector<ir::Node*> targets;
  for (const auto& node : graph.nodes())
    if (eligible(graph, *node)) targets.push_back(node.get());
  if (targets.empty()) return false;
  BlockedTwins twins;
  for (ir::Node* node : targets) rewrite(graph, node, twins);
  KILN_RETURN_IF_ERROR(finish_rewrites(graph));
  for (int sweep = 0; sweep < kMaxCancellationSweeps; ++sweep) {
    KILN_ASSIGN_OR_RETURN(const bool reshapes, cancel_reshapes(graph));
    KILN_ASSIGN_OR_RETURN(const bool transposes, cancel_transposes(graph));
    if (!reshapes && !transposes) break;
  }
  return true;
}

}  // namespace kiln::passes
