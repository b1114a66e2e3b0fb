// Registration of the fused-op reference kernels and the helpers they share: running another
// op's reference kernel, and applying a fused activation through the activation kernels.
#include <string>

#include "backends/reference/kernel_util.h"
#include "backends/reference/kernels/fused_kernels.h"

namespace kiln::reference {
namespace fused {

Result<Tensor> run_kernel(OpKind op, std::vector<const Tensor*> inputs, const Attributes& attrs) {
  KernelFn fn = find_kernel(op);
  if (!fn) return internal_error(std::string(op_kind_name(op)) + " has no reference kernel");
  KernelContext ctx;
  ctx.op = op;
  ctx.inputs = std::move(inputs);
  ctx.attrs = &attrs;
  ctx.outputs.resize(1);
  ctx.output_wanted.assign(1, true);
  KILN_RETURN_IF_ERROR(fn(ctx));
  return std::move(ctx.outputs[0]);
}

Result<Tensor> apply_activation(const FusedActivationSpec& spec, Tensor x) {
  Attributes attrs;
  switch (spec.kind) {
    case FusedActivation::kNone:
      return x;
    case FusedActivation::kRelu:
      return run_kernel(OpKind::Relu, {&x});
    case FusedActivation::kSigmoid:
      return run_kernel(OpKind::Sigmoid, {&x});
    case FusedActivation::kTanh:
      return run_kernel(OpKind::Tanh, {&x});
    case FusedActivation::kHardSwish:
      return run_kernel(OpKind::HardSwish, {&x});
    case FusedActivation::kGelu:
      attrs.set("approximate", std::string("none"));
      return run_kernel(OpKind::Gelu, {&x}, attrs);
    case FusedActivation::kGeluTanh:
      attrs.set("approximate", std::string("tanh"));
      return run_kernel(OpKind::Gelu, {&x}, attrs);
    case FusedActivation::kLeakyRelu:
      attrs.set("alpha", spec.alpha);
      return run_kernel(OpKind::LeakyRelu, {&x}, attrs);
    case FusedActivation::kClip: {
      const Tensor lo = from_doubles(x.dtype(), Shape{}, {static_cast<double>(spec.min)});
      const Tensor hi = from_doubles(x.dtype(), Shape{}, {static_cast<double>(spec.max)});
      return run_kernel(OpKind::Clip, {&x, &lo, &hi});
    }
  }
  return internal_error("unhandled fused activation");
}

Result<FusedActivationSpec> activation_of(const KernelContext& ctx) {
  auto spec = decode_fused_activation(ctx.attributes());
  if (!spec.ok()) return invalid_argument(std::string(op_kind_name(ctx.op)) + ": " + spec.status().message());
  return spec;
}

}  // namespace fused

void register_fused_kernels(KernelTable& table) {
  fused::register_fused_conv_kernel(table);
  fused::register_fused_matmul_kernel(table);
  fused::register_attention_kernel(table);
}

}  // namespace kiln::reference
