#include "backends/reference/kernels/nn_kernels.h"

namespace kiln::reference {
namespace nn {

Result<const Tensor*> required_input(const KernelContext& ctx, size_t i, const char* name) {
  const Tensor* t = ctx.input(i);
  if (!t || !t->defined()) return invalid_argument(std::string("input '") + name + "' is required");
  return t;
}

Result<const Tensor*> required_float_input(const KernelContext& ctx, size_t i, const char* name) {
  KILN_ASSIGN_OR_RETURN(const Tensor* t, required_input(ctx, i, name));
  if (!dtype_is_floating(t->dtype()))
    return invalid_argument(std::string("input '") + name + "' must be floating point, got " +
                            std::string(dtype_name(t->dtype())));
  return t;
}

Status require_min_rank(const Tensor& t, size_t min_rank, const char* name) {
  if (t.rank() < min_rank)
    return invalid_argument(std::string("input '") + name + "' has shape " + t.shape().to_string() +
                            ", expected rank >= " + std::to_string(min_rank));
  return {};
}

Status require_vector(const Tensor& t, int64_t count, const char* name) {
  if (t.rank() != 1 || t.shape()[0] != count)
    return invalid_argument(std::string("input '") + name + "' has shape " + t.shape().to_string() +
                            ", expected [" + std::to_string(count) + "] (one value per channel)");
  return {};
}

int64_t volume_from(const Shape& shape, size_t first) {
  int64_t n = 1;
  for (size_t d = first; d < shape.rank(); ++d) n *= shape[d];
  return n;
}

}  // namespace nn

void register_nn_kernels(KernelTable& table) {
  nn::register_conv_kernels(table);
  nn::register_conv_transpose_kernels(table);
  nn::register_pool_kernels(table);
  nn::register_normalization_kernels(table);
  nn::register_layer_norm_kernels(table);
  nn::register_pad_kernels(table);
}

}  // namespace kiln::reference
