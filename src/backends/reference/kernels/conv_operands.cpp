#include "backends/reference/kernels/conv_operands.h"

#include <string>

#include "backends/reference/kernels/nn_kernels.h"

namespace kiln::reference::nn {
namespace {

constexpr size_t kMinConvRank = 3;  // N, C and at least one spatial axis

}  // namespace

Result<ConvSetup> begin_conv_setup(const Tensor& x, const Tensor& w, const Attributes& attrs) {
  KILN_RETURN_IF_ERROR(require_min_rank(x, kMinConvRank, "X"));
  if (w.rank() != x.rank())
    return invalid_argument("input 'W' has shape " + w.shape().to_string() + ", expected rank " +
                            std::to_string(x.rank()) + " like X " + x.shape().to_string());
  if (w.dtype() != x.dtype()) return invalid_argument("input 'W' must have the dtype of X");
  ConvSetup s;
  s.group = attrs.get_int("group", 1);
  if (s.group < 1) return invalid_argument("attribute 'group' must be >= 1");
  s.batch = x.shape()[0];
  s.in_channels = x.shape()[1];
  return s;
}

Status check_conv_bias(const Tensor* b, const Tensor& x, int64_t out_channels) {
  if (!b) return {};
  if (b->dtype() != x.dtype()) return invalid_argument("input 'B' must have the dtype of X");
  return require_vector(*b, out_channels, "B");
}

Result<WindowAttrs> decode_conv_window(const Tensor& x, const Tensor& w, const Attributes& attrs) {
  const size_t spatial = x.rank() - 2;
  std::vector<int64_t> weight_kernel(w.shape().dims().begin() + 2, w.shape().dims().end());
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> kernel, decode_kernel_shape(attrs, spatial, weight_kernel));
  return decode_window(attrs, kernel, /*allow_ceil_mode=*/false);
}

}  // namespace kiln::reference::nn
