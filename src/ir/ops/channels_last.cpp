#include "ir/ops/channels_last.h"

#include <algorithm>
#include <array>
#include <functional>
#include <string>

#include "core/channel_block.h"
#include "core/channels_last.h"
#include "ir/graph.h"

namespace kiln::ir {
namespace {

SymShape permuted(const SymShape& s, const std::array<int64_t, kChannelsLastRank>& perm) {
  SymShape out(kChannelsLastRank);
  for (size_t d = 0; d < kChannelsLastRank; ++d) out[d] = s[static_cast<size_t>(perm[d])];
  return out;
}

// [N, C/b, H, W, b] viewed as [N, C, H, W]; C/b must be known to name C.
Result<SymShape> unblocked(const SymShape& s, int64_t block) {
  if (s.size() != kChannelBlockedRank || !s[1].is_known() || s[4] != Dim::known(block))
    return invalid_argument("is " + sym_shape_to_string(s) + ", not channel-blocked [N, C/" + std::to_string(block) +
                            ", H, W, " + std::to_string(block) + "] with C/" + std::to_string(block) + " known");
  return SymShape{s[0], Dim::known(s[1].value * block), s[2], s[3]};
}

Result<SymShape> blocked(const SymShape& s, int64_t block) {
  if (s.size() != kChannelsLastRank || !s[1].is_known() || s[1].value % block != 0)
    return invalid_argument("has " + sym_shape_to_string(s) + ": its channels are not a known multiple of " +
                            std::to_string(block));
  return SymShape{s[0], Dim::known(s[1].value / block), s[2], s[3], Dim::known(block)};
}

// Maps a shape of the layout to its NCHW view (inputs) or back (outputs); an error message
// when the shape does not fit the layout.
using ShapeMap = std::function<Result<SymShape>(const SymShape&)>;

// The layout's NCHW rules run on a twin node in a scratch graph (it never joins a real graph):
// the inputs listed in `viewed` get their shapes through `to_nchw`, the attribute `attr` is
// dropped, and every output shape comes back through `from_nchw`.
Status infer_on_twin(InferContext& ctx, InferFn nchw_infer, const char* attr, std::initializer_list<size_t> viewed,
                     const ShapeMap& to_nchw, const ShapeMap& from_nchw) {
  Graph scratch;
  const Node& node = ctx.node();
  std::vector<Value*> inputs(node.inputs().size(), nullptr);
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!node.input(i)) continue;
    inputs[i] = scratch.add_value(node.input(i)->name());
    ValueType t = node.input(i)->type();
    if (t.shape && std::find(viewed.begin(), viewed.end(), i) != viewed.end()) {
      auto view = to_nchw(*t.shape);
      if (!view.ok()) return ctx.error("input " + std::to_string(i) + " " + view.status().message());
      t.shape = std::move(*view);
    }
    inputs[i]->set_type(std::move(t));
  }
  std::vector<Value*> outputs;
  for (size_t o = 0; o < ctx.num_outputs(); ++o) outputs.push_back(scratch.add_value("out" + std::to_string(o)));
  Attributes attrs = node.attrs();
  attrs.erase(attr);
  const Node* twin = scratch.add_node(node.op(), node.name(), inputs, outputs, std::move(attrs));
  InferContext nchw(*twin);
  KILN_RETURN_IF_ERROR(nchw_infer(nchw));
  for (size_t o = 0; o < nchw.outputs().size(); ++o) {
    ValueType t = nchw.outputs()[o];
    if (t.shape) {
      auto back = from_nchw(*t.shape);
      if (!back.ok()) return ctx.error("output " + std::to_string(o) + " " + back.status().message());
      t.shape = std::move(*back);
    }
    ctx.set_output(o, std::move(t));
  }
  return {};
}

}  // namespace

Status infer_with_layout(InferContext& ctx, InferFn nchw_infer, std::initializer_list<size_t> nhwc_inputs,
                         std::initializer_list<size_t> blocked_inputs) {
  auto channels_last = decode_channels_last(ctx.attrs());
  if (!channels_last.ok()) return ctx.error(channels_last.status().message());
  auto block = decode_channel_block(ctx.attrs());
  if (!block.ok()) return ctx.error(block.status().message());
  if (*block != 0) {
    if (*channels_last) return ctx.error(std::string("'") + kChannelBlockAttr + "' cannot be combined with '" +
                                         kChannelsLastAttr + "'");
    if (blocked_inputs.size() == 0) return ctx.error(std::string("attribute '") + kChannelBlockAttr + "' is not defined for this op");
    const int64_t b = *block;
    return infer_on_twin(
        ctx, nchw_infer, kChannelBlockAttr, blocked_inputs, [b](const SymShape& s) { return unblocked(s, b); },
        [b](const SymShape& s) { return blocked(s, b); });
  }
  if (!*channels_last) return nchw_infer(ctx);
  for (size_t i : nhwc_inputs) {
    const SymShape* s = ctx.has_input(i) ? ctx.input_shape(i) : nullptr;
    if (s && s->size() != kChannelsLastRank)
      return ctx.error(std::string("attribute '") + kChannelsLastAttr + "' needs 2-D spatial (rank-4) inputs; input " +
                       std::to_string(i) + " is " + sym_shape_to_string(*s));
  }
  return infer_on_twin(
      ctx, nchw_infer, kChannelsLastAttr, nhwc_inputs,
      [](const SymShape& s) -> Result<SymShape> { return permuted(s, kToChannelsFirst); },
      [](const SymShape& s) -> Result<SymShape> { return s.size() == kChannelsLastRank ? permuted(s, kToChannelsLast) : s; });
}

}  // namespace kiln::ir
