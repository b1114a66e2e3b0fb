// Reference CumSum: running sums along the axis given as input, optionally exclusive (each
// output excludes its own element) and/or reversed (sums run from the end). Floats accumulate
// in double, integers in 64 bits with wrap-around.
#include <string>

#include "backends/reference/kernels/reduce_family.h"

namespace kiln::reference::reduce_detail {
namespace {

constexpr size_t kDataInput = 0;
constexpr size_t kAxisInput = 1;
constexpr int64_t kDefaultExclusive = 0;
constexpr int64_t kDefaultReverse = 0;

template <class T>
void running_sums(const Tensor& data, const AxisSplit& split, bool exclusive, bool reverse, Tensor& out) {
  using Acc = std::conditional_t<std::is_integral_v<T>, IntAccumulator<T>, double>;
  const T* src = data.data<T>();
  T* dst = out.data<T>();
  for (int64_t o = 0; o < split.outer; ++o) {
    for (int64_t i = 0; i < split.inner; ++i) {
      Acc acc{0};
      for (int64_t step = 0; step < split.extent; ++step) {
        const int64_t k = reverse ? split.extent - 1 - step : step;
        const int64_t at = split.offset(o, k, i);
        const auto element = convert_element<Acc>(src[at]);
        if (exclusive) dst[at] = convert_element<T>(acc);
        if constexpr (std::is_integral_v<T>) acc = wrapping_add(acc, element);
        else acc += element;
        if (!exclusive) dst[at] = convert_element<T>(acc);
      }
    }
  }
}

}  // namespace

Status cumsum_kernel(KernelContext& ctx) {
  const Tensor* data = ctx.input(kDataInput);
  const Tensor* axis_tensor = ctx.input(kAxisInput);
  if (!data || !axis_tensor) return invalid_argument("CumSum: inputs 'x' and 'axis' are required");
  if (!is_reducible_dtype(data->dtype())) return unsupported_dtype("CumSum", data->dtype());
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> axis_values, to_int64s(*axis_tensor, "CumSum input 'axis'"));
  if (axis_values.size() != 1)
    return invalid_argument("CumSum: input 'axis' must hold exactly one value, got " +
                            std::to_string(axis_values.size()));
  KILN_ASSIGN_OR_RETURN(int64_t axis, normalize_kernel_axis("CumSum", axis_values[0], data->rank(), "input 'axis'"));
  const Attributes& attrs = ctx.attributes();
  const bool exclusive = attrs.get_int("exclusive", kDefaultExclusive) != 0;
  const bool reverse = attrs.get_int("reverse", kDefaultReverse) != 0;
  Tensor out(data->dtype(), data->shape());
  visit_dtype(data->dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (!std::is_same_v<T, bool>) running_sums<T>(*data, split_at(data->shape(), axis), exclusive, reverse, out);
  });
  ctx.outputs[0] = std::move(out);
  return {};
}

}  // namespace kiln::reference::reduce_detail
