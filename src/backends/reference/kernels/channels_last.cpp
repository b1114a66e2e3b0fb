#include "backends/reference/kernels/channels_last.h"

#include <array>
#include <string>
#include <vector>

#include "core/channels_last.h"

namespace kiln::reference {
namespace {

Result<Tensor> transpose(const Tensor& x, const std::array<int64_t, kChannelsLastRank>& perm) {
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

}  // namespace

Status run_with_layout(KernelContext& ctx, KernelFn nchw, std::initializer_list<size_t> nhwc_inputs) {
  const std::string op(op_kind_name(ctx.op));
  auto channels_last = decode_channels_last(ctx.attributes());
  if (!channels_last.ok()) return invalid_argument(op + ": " + channels_last.status().message());
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
