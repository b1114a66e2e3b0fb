// Reference kernels of the axes-based reductions (ReduceSum, ReduceMean, ...; opset-18 form)
// and the family's registration. Floating-point inputs reduce in double; integer inputs reduce
// exactly in 64-bit integers where the op allows (sum, mean, prod, min, max, L1, sum of squares)
// and in double otherwise. Empty reductions give the identity of the op, as the ONNX spec says.
#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "backends/reference/kernels/reduce_family.h"

namespace kiln::reference {
namespace reduce_detail {

AxisSplit split_at(const Shape& shape, int64_t axis) {
  AxisSplit split;
  for (size_t d = 0; d < shape.rank(); ++d) {
    const auto di = static_cast<int64_t>(d);
    if (di < axis) split.outer *= shape[d];
    else if (di == axis) split.extent = shape[d];
    else split.inner *= shape[d];
  }
  return split;
}

Result<int64_t> normalize_kernel_axis(const std::string& op, int64_t axis, size_t rank, const std::string& what) {
  const auto r = static_cast<int64_t>(rank);
  if (axis < -r || axis >= r)
    return invalid_argument(op + ": " + what + " " + std::to_string(axis) +
                            " is out of range for an input of rank " + std::to_string(r));
  return axis < 0 ? axis + r : axis;
}

bool is_reducible_dtype(DType dtype) {
  return dtype != DType::kFloat8E4M3 && (dtype_is_floating(dtype) || dtype_is_integer(dtype));
}

}  // namespace reduce_detail

namespace {

using reduce_detail::IntAccumulator;
using reduce_detail::wrapping_add;
using reduce_detail::wrapping_mul;

constexpr size_t kDataInput = 0;
constexpr size_t kAxesInput = 1;
constexpr int64_t kDefaultKeepDims = 1;
constexpr int64_t kDefaultNoopWithEmptyAxes = 0;

enum class Reduction { kSum, kMean, kMax, kMin, kProd, kL1, kL2, kLogSum, kLogSumExp, kSumSquare };

// Which output element each input element reduces into.
struct ReducePlan {
  bool identity = false;          // noop_with_empty_axes with empty axes: output = input
  Shape output_shape;
  int64_t group_count = 0;
  std::vector<int64_t> group_of;  // per input element, row-major
};

Result<ReducePlan> plan_reduction(const KernelContext& ctx, const std::string& op) {
  const Tensor& data = *ctx.input(kDataInput);
  std::vector<int64_t> axes;
  if (const Tensor* axes_tensor = ctx.input(kAxesInput)) {
    KILN_ASSIGN_OR_RETURN(axes, to_int64s(*axes_tensor, op + " input 'axes'"));
  }
  ReducePlan plan;
  const Attributes& attrs = ctx.attributes();
  if (axes.empty() && attrs.get_int("noop_with_empty_axes", kDefaultNoopWithEmptyAxes) != 0) {
    plan.identity = true;
    return plan;
  }
  const Shape& in = data.shape();
  std::vector<bool> reduced(in.rank(), axes.empty());
  for (int64_t axis : axes) {
    KILN_ASSIGN_OR_RETURN(int64_t d, reduce_detail::normalize_kernel_axis(op, axis, in.rank(), "axes entry"));
    if (reduced[static_cast<size_t>(d)])
      return invalid_argument(op + ": input 'axes' names axis " + std::to_string(d) + " more than once");
    reduced[static_cast<size_t>(d)] = true;
  }
  const bool keepdims = attrs.get_int("keepdims", kDefaultKeepDims) != 0;
  // Strides of the kept dims in the output (reduced dims contribute nothing).
  Shape kept(std::vector<int64_t>(in.rank(), 1));
  std::vector<int64_t> out_dims;
  for (size_t d = 0; d < in.rank(); ++d) {
    if (!reduced[d]) kept[d] = in[d];
    if (!reduced[d]) out_dims.push_back(in[d]);
    else if (keepdims) out_dims.push_back(1);
  }
  std::vector<int64_t> strides = contiguous_strides(kept);
  for (size_t d = 0; d < in.rank(); ++d)
    if (reduced[d]) strides[d] = 0;
  plan.output_shape = Shape(std::move(out_dims));
  plan.group_count = plan.output_shape.numel();
  plan.group_of.reserve(static_cast<size_t>(data.numel()));
  for_each_index(in, [&](const std::vector<int64_t>& index) { plan.group_of.push_back(offset_of(index, strides)); });
  return plan;
}

template <class V>
std::vector<std::vector<V>> group_values(const ReducePlan& plan, const std::vector<V>& values) {
  std::vector<std::vector<V>> groups(static_cast<size_t>(plan.group_count));
  for (size_t i = 0; i < values.size(); ++i) groups[static_cast<size_t>(plan.group_of[i])].push_back(values[i]);
  return groups;
}

double log_sum_exp(const std::vector<double>& values) {
  double peak = -std::numeric_limits<double>::infinity();
  for (double v : values) {
    if (std::isnan(v)) return v;
    peak = std::max(peak, v);
  }
  // Empty, all -inf, or an +inf present: subtracting the peak would give inf - inf.
  if (std::isinf(peak)) return peak;
  double sum = 0.0;
  for (double v : values) sum += std::exp(v - peak);
  return peak + std::log(sum);
}

double reduce_doubles(Reduction kind, const std::vector<double>& values) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  double acc = 0.0;
  switch (kind) {
    case Reduction::kSum:
      for (double v : values) acc += v;
      return acc;
    case Reduction::kMean:
      for (double v : values) acc += v;
      return acc / static_cast<double>(values.size());  // empty: 0/0 = NaN, as numpy
    case Reduction::kMax:
      acc = -kInf;
      for (double v : values) acc = std::isnan(v) || std::isnan(acc) ? std::nan("") : std::max(acc, v);
      return acc;
    case Reduction::kMin:
      acc = kInf;
      for (double v : values) acc = std::isnan(v) || std::isnan(acc) ? std::nan("") : std::min(acc, v);
      return acc;
    case Reduction::kProd:
      acc = 1.0;
      for (double v : values) acc *= v;
      return acc;
    case Reduction::kL1:
      for (double v : values) acc += std::fabs(v);
      return acc;
    case Reduction::kL2:
      for (double v : values) acc += v * v;
      return std::sqrt(acc);
    case Reduction::kLogSum:
      for (double v : values) acc += v;
      return std::log(acc);
    case Reduction::kLogSumExp:
      return log_sum_exp(values);
    case Reduction::kSumSquare:
      for (double v : values) acc += v * v;
      return acc;
  }
  return acc;
}

// Exact integer reductions; nullopt for the ops that need real arithmetic (L2, logs).
template <class Acc>
std::optional<Acc> reduce_integers(Reduction kind, const std::vector<Acc>& values) {
  Acc acc = 0;
  switch (kind) {
    case Reduction::kSum:
    case Reduction::kMean:
      for (Acc v : values) acc = wrapping_add(acc, v);
      if (kind == Reduction::kMean) {
        if (values.empty()) return Acc{0};  // no integer NaN; 0 keeps the result defined
        return static_cast<Acc>(acc / static_cast<Acc>(values.size()));
      }
      return acc;
    case Reduction::kMax:
      acc = std::numeric_limits<Acc>::lowest();
      for (Acc v : values) acc = std::max(acc, v);
      return acc;
    case Reduction::kMin:
      acc = std::numeric_limits<Acc>::max();
      for (Acc v : values) acc = std::min(acc, v);
      return acc;
    case Reduction::kProd:
      acc = 1;
      for (Acc v : values) acc = wrapping_mul(acc, v);
      return acc;
    case Reduction::kL1:
      for (Acc v : values) {
        if constexpr (std::is_signed_v<Acc>) v = v < 0 ? wrapping_mul(v, Acc{-1}) : v;
        acc = wrapping_add(acc, v);
      }
      return acc;
    case Reduction::kSumSquare:
      for (Acc v : values) acc = wrapping_add(acc, wrapping_mul(v, v));
      return acc;
    default:
      return std::nullopt;
  }
}

// A double converted to integer type T, saturating (NaN becomes 0) so no value is undefined.
template <class T>
T saturate_to_integer(double v) {
  if (std::isnan(v)) return T{0};
  if (v <= static_cast<double>(std::numeric_limits<T>::lowest())) return std::numeric_limits<T>::lowest();
  if (v >= static_cast<double>(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
  return static_cast<T>(v);
}

template <class T>
Tensor reduce_integer_tensor(Reduction kind, const Tensor& data, const ReducePlan& plan) {
  using Acc = IntAccumulator<T>;
  const T* in = data.data<T>();
  Tensor out(data.dtype(), plan.output_shape);
  T* dst = out.data<T>();
  // The min/max of an empty set is the type's own lowest/highest value, not the accumulator's.
  const bool empty_extreme = kind == Reduction::kMax || kind == Reduction::kMin;
  std::vector<Acc> values(in, in + data.numel());
  std::vector<std::vector<Acc>> groups = group_values(plan, values);
  for (size_t g = 0; g < groups.size(); ++g) {
    if (empty_extreme && groups[g].empty()) {
      dst[g] = kind == Reduction::kMax ? std::numeric_limits<T>::lowest() : std::numeric_limits<T>::max();
    } else if (std::optional<Acc> exact = reduce_integers(kind, groups[g])) {
      dst[g] = static_cast<T>(*exact);  // modular narrowing, defined in C++20
    } else {
      std::vector<double> real(groups[g].begin(), groups[g].end());
      dst[g] = saturate_to_integer<T>(reduce_doubles(kind, real));
    }
  }
  return out;
}

template <Reduction kKind>
Status reduce_kernel(KernelContext& ctx) {
  const std::string op(op_kind_name(ctx.op));
  const Tensor* data = ctx.input(kDataInput);
  if (!data) return invalid_argument(op + ": input 'data' is required");
  if (!reduce_detail::is_reducible_dtype(data->dtype())) return unsupported_dtype(op.c_str(), data->dtype());
  KILN_ASSIGN_OR_RETURN(ReducePlan plan, plan_reduction(ctx, op));
  if (plan.identity) {
    ctx.outputs[0] = data->clone();
    return {};
  }
  if (dtype_is_integer(data->dtype())) {
    visit_dtype(data->dtype(), [&](auto tag) {
      using T = decltype(tag);
      if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>)
        ctx.outputs[0] = reduce_integer_tensor<T>(kKind, *data, plan);
    });
    return {};
  }
  std::vector<std::vector<double>> groups = group_values(plan, to_doubles(*data));
  std::vector<double> results(groups.size());
  for (size_t g = 0; g < groups.size(); ++g) results[g] = reduce_doubles(kKind, groups[g]);
  ctx.outputs[0] = from_doubles(data->dtype(), plan.output_shape, results);
  return {};
}

}  // namespace

void register_reduce_kernels(KernelTable& table) {
  table.add(OpKind::ReduceSum, reduce_kernel<Reduction::kSum>);
  table.add(OpKind::ReduceMean, reduce_kernel<Reduction::kMean>);
  table.add(OpKind::ReduceMax, reduce_kernel<Reduction::kMax>);
  table.add(OpKind::ReduceMin, reduce_kernel<Reduction::kMin>);
  table.add(OpKind::ReduceProd, reduce_kernel<Reduction::kProd>);
  table.add(OpKind::ReduceL1, reduce_kernel<Reduction::kL1>);
  table.add(OpKind::ReduceL2, reduce_kernel<Reduction::kL2>);
  table.add(OpKind::ReduceLogSum, reduce_kernel<Reduction::kLogSum>);
  table.add(OpKind::ReduceLogSumExp, reduce_kernel<Reduction::kLogSumExp>);
  table.add(OpKind::ReduceSumSquare, reduce_kernel<Reduction::kSumSquare>);
  table.add(OpKind::ArgMax, reduce_detail::arg_max_kernel);
  table.add(OpKind::ArgMin, reduce_detail::arg_min_kernel);
  table.add(OpKind::TopK, reduce_detail::topk_kernel);
  table.add(OpKind::CumSum, reduce_detail::cumsum_kernel);
}

}  // namespace kiln::reference
