#include "ir/ops/channels_last.h"

#include <algorithm>
#include <array>
#include <string>

#include "core/channels_last.h"
#include "ir/graph.h"

namespace kiln::ir {
namespace {

SymShape permuted(const SymShape& s, const std::array<int64_t, kChannelsLastRank>& perm) {
  SymShape out(kChannelsLastRank);
  for (size_t d = 0; d < kChannelsLastRank; ++d) out[d] = s[static_cast<size_t>(perm[d])];
  return out;
}

}  // namespace

Status infer_with_layout(InferContext& ctx, InferFn nchw_infer, std::initializer_list<size_t> nhwc_inputs) {
  auto channels_last = decode_channels_last(ctx.attrs());
  if (!channels_last.ok()) return ctx.error(channels_last.status().message());
  if (!*channels_last) return nchw_infer(ctx);
  for (size_t i : nhwc_inputs) {
    const SymShape* s = ctx.has_input(i) ? ctx.input_shape(i) : nullptr;
    if (s && s->size() != kChannelsLastRank)
      return ctx.error(std::string("attribute '") + kChannelsLastAttr + "' needs 2-D spatial (rank-4) inputs; input " +
                       std::to_string(i) + " is " + sym_shape_to_string(*s));
  }
  // A twin node in a scratch graph holds the channels-first view; it never joins a real graph.
  Graph scratch;
  const Node& node = ctx.node();
  std::vector<Value*> inputs(node.inputs().size(), nullptr);
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!node.input(i)) continue;
    inputs[i] = scratch.add_value(node.input(i)->name());
    ValueType t = node.input(i)->type();
    const bool nhwc = std::find(nhwc_inputs.begin(), nhwc_inputs.end(), i) != nhwc_inputs.end();
    if (nhwc && t.shape) t.shape = permuted(*t.shape, kToChannelsFirst);
    inputs[i]->set_type(std::move(t));
  }
  std::vector<Value*> outputs;
  for (size_t o = 0; o < ctx.num_outputs(); ++o) outputs.push_back(scratch.add_value("out" + std::to_string(o)));
  Attributes attrs = node.attrs();
  attrs.erase(kChannelsLastAttr);
  const Node* twin = scratch.add_node(node.op(), node.name(), inputs, outputs, std::move(attrs));
  InferContext nchw(*twin);
  KILN_RETURN_IF_ERROR(nchw_infer(nchw));
  for (size_t o = 0; o < nchw.outputs().size(); ++o) {
    ValueType t = nchw.outputs()[o];
    if (t.shape && t.shape->size() == kChannelsLastRank) t.shape = permuted(*t.shape, kToChannelsLast);
    ctx.set_output(o, std::move(t));
  }
  return {};
}

}  // namespace kiln::ir
