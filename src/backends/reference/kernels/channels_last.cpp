#include "backends/reference/kernels/channels_last.h"

#include <array>
#include <string>
#include <vector>

#include "core/channel_block.h"
#include "core/channels_last.h"

namespace kiln::reference {
namespace {

template <size_t kRank>
Result<Tensor> transpose(const Tensor& x, const std::array<int64_t, kRank>& perm) {
  Attributes attrs;
  attrs.set("perm", std::vector<int64_t>(perm.begin(), perm.end()));
  KernelContext t;
  t.op = OpKind::Transpose;
  t.inputs = {&x};
  t.attrs = &attrs;
  t.outputs.resize(1);
  t.output_wanted.assign(1, true);
  KILN_RETURN_IF_ERROR(find_kernel(OpKind::Transpose)(t));
  return std::move(t.outputs[0]);
}

// [N, C/b, H, W, b] -> [N, C, H, W].
Result<Tensor> unblock(const Tensor& x) {
  KILN_ASSIGN_OR_RETURN(Tensor split, transpose(x, kFromChannelBlocked));
  return split.reshaped(channel_unblocked_shape(x.shape()));
}

// [N, C, H, W] -> [N, C/b, H, W, b].
Result<Tensor> block(const Tensor& x, int64_t b) {
  const Shape& s = x.shape();
  KILN_ASSIGN_OR_RETURN(Tensor split, x.reshaped(Shape{s[0], s[1] / b, b, s[2], s[3]}));
  return transpose(split, kToChannelBlocked);
}

// The channel_block form: blocked inputs unblocked, the NCHW kernel, output 0 blocked again.
Status run_blocked(KernelContext& ctx, KernelFn nchw, std::initializer_list<size_t> blocked_inputs, int64_t b) {
  const std::string op(op_kind_name(ctx.op));
  std::vector<Tensor> views;
  views.reserve(blocked_inputs.size());
  KernelContext inner = ctx;
  for (size_t i : blocked_inputs) {
    const Tensor* t = ctx.input(i);
    if (!t || !t->defined()) continue;
    if (t->rank() != kChannelBlockedRank || t->shape()[4] != b)
      return invalid_argument(op + ": " + kChannelBlockAttr + " needs [N, C/" + std::to_string(b) + ", H, W, " +
                              std::to_string(b) + "] inputs, input " + std::to_string(i) + " is " +
                              t->shape().to_string());
    KILN_ASSIGN_OR_RETURN(Tensor view, unblock(*t));
    views.push_back(std::move(view));
    inner.inputs[i] = &views.back();
  }
  Attributes attrs = ctx.attributes();
  attrs.erase(kChannelBlockAttr);
  inner.attrs = &attrs;
  inner.outputs.assign(1, Tensor());
  inner.output_wanted.assign(1, true);
  KILN_RETURN_IF_ERROR(nchw(inner));
  const Tensor& y = inner.outputs[0];
  if (y.rank() != kChannelsLastRank || y.shape()[1] % b != 0)
    return invalid_argument(op + ": output " + y.shape().to_string() + " cannot be channel-blocked by " +
                            std::to_string(b));
  KILN_ASSIGN_OR_RETURN(ctx.outputs[0], block(y, b));
  return {};
}

}  // namespace

Status run_with_layout(KernelContext& ctx, KernelFn nchw, std::initializer_list<size_t> nhwc_inputs,
                       std::initializer_list<size_t> blocked_inputs) {
  const std::string op(op_kind_name(ctx.op));
  auto channels_last = decode_channels_last(ctx.attributes());
  if (!channels_last.ok()) return invalid_argument(op + ": " + channels_last.status().message());
  auto channel_block = decode_channel_block(ctx.attributes());
  if (!channel_block.ok()) return invalid_argument(op + ": " + channel_block.status().message());
  if (*channel_block != 0) {
    if (*channels_last || blocked_inputs.size() == 0)
      return invalid_argument(op + ": " + kChannelBlockAttr + " is defined for FusedConv without " + kChannelsLastAttr);
    return run_blocked(ctx, nchw, blocked_inputs, *channel_block);
  }
  if (!*channels_last) return nchw(ctx);
  for (size_t o = 1; o < ctx.num_outputs(); ++o)
    if (o >= ctx.output_wanted.size() || ctx.output_wanted[o])
      return invalid_argument(op + ": " + kChannelsLastAttr + " cannot be combined with output " + std::to_string(o) +
                              " (MaxPool's Indices are NCHW offsets)");
  std::vector<Tensor> views;
  views.reserve(nhwc_inputs.size());
  KernelContext inner = ctx;
  for (size_t i : nhwc_inputs) {
    const Tensor* t = ctx.input(i);
    if (!t || !t->defined()) continue;
    if (t->rank() != kChannelsLastRank)
      return invalid_argument(op + ": " + kChannelsLastAttr + " needs rank-4 inputs, input " + std::to_string(i) +
                              " is " + t->shape().to_string());
    KILN_ASSIGN_OR_RETURN(Tensor view, transpose(*t, kToChannelsFirst));
    views.push_back(std::move(view));
    inner.inputs[i] = &views.back();
  }
  Attributes attrs = ctx.attributes();
  attrs.erase(kChannelsLastAttr);
  inner.attrs = &attrs;
  inner.outputs.assign(1, Tensor());
  inner.output_wanted.assign(1, true);
  KILN_RETURN_IF_ERROR(nchw(inner));
  KILN_ASSIGN_OR_RETURN(ctx.outputs[0], transpose(inner.outputs[0], kToChannelsLast));
  return {};
}

}  // namespace kiln::reference
