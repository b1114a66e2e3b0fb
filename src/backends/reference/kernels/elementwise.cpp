// Elementwise family: shared checks and the registration entry point. The kernels themselves
// live in elementwise_{unary,activation,binary,variadic,cast}.cpp.
#include <algorithm>

#include "backends/reference/kernels/elementwise_util.h"

namespace kiln::reference {
namespace elementwise {

Status check_dtype(OpKind op, size_t input, DType dtype, DTypeSet allowed) {
  if (dtype != DType::kUndefined && dtype < DType::kCount && (allowed & bit(dtype)) != 0) return {};
  return unimplemented(std::string(op_kind_name(op)) + ": input " + std::to_string(input) + " has dtype " +
                       std::string(dtype_name(dtype)) + ", which this op does not support");
}

Result<const Tensor*> required_input(const KernelContext& ctx, size_t i) {
  const Tensor* t = ctx.input(i);
  if (!t || !t->defined())
    return invalid_argument(std::string(op_kind_name(ctx.op)) + ": required input " + std::to_string(i) +
                            " is missing");
  return t;
}

Status check_same_dtype(OpKind op, const Tensor& a, size_t ia, const Tensor& b, size_t ib) {
  if (a.dtype() == b.dtype()) return {};
  return invalid_argument(std::string(op_kind_name(op)) + ": input " + std::to_string(ib) + " has dtype " +
                          std::string(dtype_name(b.dtype())) + " but input " + std::to_string(ia) + " has dtype " +
                          std::string(dtype_name(a.dtype())) + "; they must match");
}

Result<Shape> broadcast_all(const KernelContext& ctx, size_t first, size_t last) {
  Shape out;
  for (size_t i = first; i < std::min(last, ctx.num_inputs()); ++i) {
    const Tensor* t = ctx.input(i);
    if (!t || !t->defined()) continue;
    Result<Shape> merged = broadcast_shapes(out, t->shape());
    if (!merged.ok())
      return invalid_argument(std::string(op_kind_name(ctx.op)) + ": input " + std::to_string(i) + ": " +
                              merged.status().message());
    out = std::move(merged).value();
  }
  return out;
}

}  // namespace elementwise

void register_elementwise_kernels(KernelTable& table) {
  elementwise::register_unary_math_kernels(table);
  elementwise::register_activation_kernels(table);
  elementwise::register_binary_kernels(table);
  elementwise::register_variadic_kernels(table);
  elementwise::register_cast_kernels(table);
}

}  // namespace kiln::reference
