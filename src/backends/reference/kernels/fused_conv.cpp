// FusedConv = act(Conv(X, W, B) + Z): the Conv, Add and activation reference kernels in turn.
#include <string>

#include "backends/reference/kernels/channels_last.h"
#include "backends/reference/kernels/fused_kernels.h"

namespace kiln::reference::fused {
namespace {

enum Input : size_t { kX = 0, kW = 1, kB = 2, kZ = 3 };

const Tensor* present(const KernelContext& ctx, size_t i) {
  const Tensor* t = ctx.input(i);
  return t && t->defined() ? t : nullptr;
}

Status fused_conv_nchw(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(FusedActivationSpec activation, activation_of(ctx));
  auto y = run_kernel(OpKind::Conv, {ctx.input(kX), ctx.input(kW), present(ctx, kB)}, ctx.attributes());
  if (!y.ok()) return y.status().with_context("FusedConv");
  Tensor sum = std::move(*y);
  if (const Tensor* z = present(ctx, kZ)) {
    if (z->dtype() != sum.dtype() || !(z->shape() == sum.shape()))
      return invalid_argument("FusedConv: residual Z " + std::string(dtype_name(z->dtype())) + z->shape().to_string() +
                              " must match the convolution's output " + std::string(dtype_name(sum.dtype())) +
                              sum.shape().to_string());
    KILN_ASSIGN_OR_RETURN(sum, run_kernel(OpKind::Add, {&sum, z}));
  }
  KILN_ASSIGN_OR_RETURN(ctx.outputs[0], apply_activation(activation, std::move(sum)));
  return {};
}

Status fused_conv_kernel(KernelContext& ctx) { return run_with_layout(ctx, fused_conv_nchw, {kX, kW, kZ}, {kX, kZ}); }

}  // namespace

void register_fused_conv_kernel(KernelTable& table) { table.add(OpKind::FusedConv, fused_conv_kernel); }

}  // namespace kiln::reference::fused
