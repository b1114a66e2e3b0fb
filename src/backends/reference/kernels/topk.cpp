// Reference TopK: the K largest (or smallest) elements along `axis` with their int64 indices.
// Output is always sorted (also for sorted=0, where the spec leaves the order open); equal
// values keep the smaller index first, as the spec requires. NaN orders above every number.
#include <algorithm>
#include <numeric>
#include <string>

#include "backends/reference/kernels/reduce_family.h"

namespace kiln::reference::reduce_detail {
namespace {

constexpr size_t kDataInput = 0;
constexpr size_t kCountInput = 1;
constexpr size_t kValuesOutput = 0;
constexpr size_t kIndicesOutput = 1;
constexpr int64_t kDefaultAxis = -1;
constexpr int64_t kDefaultLargest = 1;

template <class T>
void select_top(const Tensor& data, const AxisSplit& split, int64_t k, bool largest, Tensor& values,
                Tensor& indices) {
  const T* src = data.data<T>();
  T* out_values = values.data<T>();
  int64_t* out_indices = indices.data<int64_t>();
  const AxisSplit out_split{split.outer, k, split.inner};
  std::vector<int64_t> order(static_cast<size_t>(split.extent));
  for (int64_t o = 0; o < split.outer; ++o) {
    for (int64_t i = 0; i < split.inner; ++i) {
      std::iota(order.begin(), order.end(), int64_t{0});
      auto key = [&](int64_t index) { return OrderKey<T>::of(src[split.offset(o, index, i)]); };
      // stable_sort keeps ties in index order, which is the order the spec asks for.
      std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
        return largest ? key(b) < key(a) : key(a) < key(b);
      });
      for (int64_t j = 0; j < k; ++j) {
        const int64_t picked = order[static_cast<size_t>(j)];
        out_values[out_split.offset(o, j, i)] = src[split.offset(o, picked, i)];
        out_indices[out_split.offset(o, j, i)] = picked;
      }
    }
  }
}

}  // namespace

Status topk_kernel(KernelContext& ctx) {
  const Tensor* data = ctx.input(kDataInput);
  const Tensor* count = ctx.input(kCountInput);
  if (!data || !count) return invalid_argument("TopK: inputs 'X' and 'K' are required");
  if (!is_reducible_dtype(data->dtype())) return unsupported_dtype("TopK", data->dtype());
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> k_values, to_int64s(*count, "TopK input 'K'"));
  if (k_values.size() != 1)
    return invalid_argument("TopK: input 'K' must hold exactly one value, got " + std::to_string(k_values.size()));
  const int64_t k = k_values[0];
  const Attributes& attrs = ctx.attributes();
  KILN_ASSIGN_OR_RETURN(int64_t axis, normalize_kernel_axis("TopK", attrs.get_int("axis", kDefaultAxis),
                                                            data->rank(), "attribute 'axis'"));
  const AxisSplit split = split_at(data->shape(), axis);
  if (k < 0 || k > split.extent)
    return invalid_argument("TopK: input 'K' is " + std::to_string(k) + " but must be in [0, " +
                            std::to_string(split.extent) + "], the size of axis " + std::to_string(axis));
  const bool largest = attrs.get_int("largest", kDefaultLargest) != 0;

  std::vector<int64_t> out_dims = data->shape().dims();
  out_dims[static_cast<size_t>(axis)] = k;
  Tensor values(data->dtype(), Shape(out_dims));
  Tensor indices(DType::kInt64, Shape(out_dims));
  visit_dtype(data->dtype(), [&](auto tag) { select_top<decltype(tag)>(*data, split, k, largest, values, indices); });
  ctx.outputs[kValuesOutput] = std::move(values);
  if (ctx.num_outputs() > kIndicesOutput) ctx.outputs[kIndicesOutput] = std::move(indices);
  return {};
}

}  // namespace kiln::reference::reduce_detail
