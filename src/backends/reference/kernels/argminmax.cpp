// Reference ArgMax / ArgMin: the int64 index of the largest / smallest element along `axis`.
// Ties go to the first occurrence, or the last with select_last_index=1. A NaN is never
// preferred over a number (it is chosen only when it comes first and nothing beats it).
#include <string>

#include "backends/reference/kernels/reduce_family.h"

namespace kiln::reference::reduce_detail {
namespace {

constexpr size_t kDataInput = 0;
constexpr int64_t kDefaultAxis = 0;
constexpr int64_t kDefaultKeepDims = 1;
constexpr int64_t kDefaultSelectLastIndex = 0;

enum class Extreme { kMax, kMin };

template <class T>
int64_t best_index(const T* data, const AxisSplit& split, int64_t o, int64_t i, Extreme extreme, bool select_last) {
  int64_t best = 0;
  for (int64_t k = 1; k < split.extent; ++k) {
    const auto candidate = convert_element<typename OrderKey<T>::Number>(data[split.offset(o, k, i)]);
    const auto current = convert_element<typename OrderKey<T>::Number>(data[split.offset(o, best, i)]);
    const bool better = extreme == Extreme::kMax ? candidate > current : candidate < current;
    if (better || (select_last && candidate == current)) best = k;
  }
  return best;
}

Status arg_extreme_kernel(KernelContext& ctx, Extreme extreme) {
  const std::string op(op_kind_name(ctx.op));
  const Tensor* data = ctx.input(kDataInput);
  if (!data) return invalid_argument(op + ": input 'data' is required");
  if (!is_reducible_dtype(data->dtype())) return unsupported_dtype(op.c_str(), data->dtype());
  const Attributes& attrs = ctx.attributes();
  KILN_ASSIGN_OR_RETURN(int64_t axis, normalize_kernel_axis(op, attrs.get_int("axis", kDefaultAxis),
                                                            data->rank(), "attribute 'axis'"));
  const bool keepdims = attrs.get_int("keepdims", kDefaultKeepDims) != 0;
  const bool select_last = attrs.get_int("select_last_index", kDefaultSelectLastIndex) != 0;
  const AxisSplit split = split_at(data->shape(), axis);
  if (split.extent == 0 && split.outer * split.inner > 0)
    return invalid_argument(op + ": axis " + std::to_string(axis) + " of input shape " +
                            data->shape().to_string() + " is empty, so there is no element to pick");

  std::vector<int64_t> out_dims = data->shape().dims();
  if (keepdims) out_dims[static_cast<size_t>(axis)] = 1;
  else out_dims.erase(out_dims.begin() + axis);
  Tensor out(DType::kInt64, Shape(std::move(out_dims)));
  int64_t* dst = out.data<int64_t>();
  visit_dtype(data->dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* src = data->data<T>();
    for (int64_t o = 0; o < split.outer; ++o)
      for (int64_t i = 0; i < split.inner; ++i) dst[o * split.inner + i] = best_index(src, split, o, i, extreme, select_last);
  });
  ctx.outputs[0] = std::move(out);
  return {};
}

}  // namespace

Status arg_max_kernel(KernelContext& ctx) { return arg_extreme_kernel(ctx, Extreme::kMax); }
Status arg_min_kernel(KernelContext& ctx) { return arg_extreme_kernel(ctx, Extreme::kMin); }

}  // namespace kiln::reference::reduce_detail
