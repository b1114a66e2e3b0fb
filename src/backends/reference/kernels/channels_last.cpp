#include "backends/reference/kernels/channels_last.h"

#include <array>
#include <functional>
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

using TensorMap = std::function<Result<Tensor>(const Tensor&)>;

// The layout's meaning: the inputs listed in `viewed` go through `to_nchw` (after `check`
// accepts them), the NCHW kernel runs without the attribute `attr`, and output 0 comes back
// through `from_nchw`.
Status run_on_nchw_view(KernelContext& ctx, KernelFn nchw, const char* attr, std::initializer_list<size_t> viewed,
                        const std::function<Status(size_t, const Tensor&)>& check, const TensorMap& to_nchw,
                        const TensorMap& from_nchw) {
  std::vector<Tensor> views;
  views.reserve(viewed.size());
  KernelContext inner = ctx;
  for (size_t i : viewed) {
    const Tensor* t = ctx.input(i);
    if (!t || !t->defined()) continue;
    KILN_RETURN_IF_ERROR(check(i, *t));
    KILN_ASSIGN_OR_RETURN(Tensor view, to_nchw(*t));
    views.push_back(std::move(view));
    inner.inputs[i] = &views.back();
  }
  Attributes attrs = ctx.attributes();
  attrs.erase(attr);
  inner.attrs = &attrs;
  inner.outputs.assign(1, Tensor());
  inner.output_wanted.assign(1, true);
  KILN_RETURN_IF_ERROR(nchw(inner));
  KILN_ASSIGN_OR_RETURN(ctx.outputs[0], from_nchw(inner.outputs[0]));
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
    const int64_t b = *channel_block;
    const auto check = [&op, b](size_t i, const Tensor& t) -> Status {
      if (t.rank() == kChannelBlockedRank && t.shape()[4] == b) return {};
      return invalid_argument(op + ": " + kChannelBlockAttr + " needs [N, C/" + std::to_string(b) + ", H, W, " +
                              std::to_string(b) + "] inputs, input " + std::to_string(i) + " is " + t.shape().to_string());
    };
    const auto to_blocks = [&op, b](const Tensor& y) -> Result<Tensor> {
      if (y.rank() != kChannelsLastRank || y.shape()[1] % b != 0)
        return invalid_argument(op + ": output " + y.shape().to_string() + " cannot be channel-blocked by " +
                                std::to_string(b));
      return block(y, b);
    };
    return run_on_nchw_view(ctx, nchw, kChannelBlockAttr, blocked_inputs, check, unblock, to_blocks);
  }
  if (!*channels_last) return nchw(ctx);
  for (size_t o = 1; o < ctx.num_outputs(); ++o)
    if (o >= ctx.output_wanted.size() || ctx.output_wanted[o])
      return invalid_argument(op + ": " + kChannelsLastAttr + " cannot be combined with output " + std::to_string(o) +
                              " (MaxPool's Indices are NCHW offsets)");
  const auto check = [&op](size_t i, const Tensor& t) -> Status {
    if (t.rank() == kChannelsLastRank) return {};
    return invalid_argument(op + ": " + kChannelsLastAttr + " needs rank-4 inputs, input " + std::to_string(i) + " is " +
                            t.shape().to_string());
  };
  return run_on_nchw_view(
      ctx, nchw, kChannelsLastAttr, nhwc_inputs, check, [](const Tensor& t) { return transpose(t, kToChannelsFirst); },
      [](const Tensor& t) { return transpose(t, kToChannelsLast); });
}

}  // namespace kiln::reference
