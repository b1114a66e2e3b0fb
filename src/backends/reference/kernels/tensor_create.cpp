// Ops that create tensors from attributes or a few scalars: Constant, ConstantOfShape, Range,
// OneHot, EyeLike, plus NonZero and Trilu, which select positions by value or by index.
#include <cmath>
#include <type_traits>

#include "backends/reference/kernels/tensor_common.h"
#include "core/onnx_dtype.h"

namespace kiln::reference::tensor_ops {
namespace {

// A 1-D tensor of `values` (the shape is taken before the values move in).
template <class T>
Tensor vector_tensor(DType dtype, std::vector<T> values) {
  const Shape shape{static_cast<int64_t>(values.size())};
  if constexpr (std::is_same_v<T, std::string>) return Tensor::from_strings(shape, std::move(values));
  else return Tensor::from_vector(dtype, shape, values);
}

Status constant_kernel(KernelContext& ctx) {
  const Attributes& a = ctx.attributes();
  std::vector<Tensor> found;
  if (const Tensor* value = a.get_tensor("value")) found.push_back(value->clone());
  if (a.has("value_float"))
    found.push_back(Tensor::from_vector(DType::kFloat32, Shape{}, std::vector<float>{a.get_float("value_float", 0)}));
  if (a.has("value_floats")) found.push_back(vector_tensor(DType::kFloat32, a.get_floats("value_floats")));
  if (a.has("value_int"))
    found.push_back(Tensor::from_vector(DType::kInt64, Shape{}, std::vector<int64_t>{a.get_int("value_int", 0)}));
  if (a.has("value_ints")) found.push_back(vector_tensor(DType::kInt64, a.get_ints("value_ints")));
  if (a.has("value_string")) found.push_back(Tensor::from_strings(Shape{}, {a.get_string("value_string", "")}));
  if (a.has("value_strings")) found.push_back(vector_tensor(DType::kBytes, a.get_strings("value_strings")));
  if (a.has("sparse_value")) return unimplemented("Constant: attribute 'sparse_value' is not supported");
  if (found.size() != 1)
    return invalid_argument("Constant needs exactly one of value, value_float(s), value_int(s), value_string(s); got " +
                            std::to_string(found.size()));
  ctx.outputs[0] = std::move(found[0]);
  return {};
}

Status constant_of_shape_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* shape_input, required_input(ctx, 0, "ConstantOfShape"));
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> dims, to_int64s(*shape_input, "ConstantOfShape input 'input'"));
  Tensor fill = Tensor::from_vector(DType::kFloat32, Shape{1}, std::vector<float>{0.0F});
  if (const Tensor* value = ctx.attributes().get_tensor("value")) {
    if (value->numel() != 1)
      return invalid_argument("ConstantOfShape: attribute 'value' must hold one element, got shape " + value->shape().to_string());
    fill = *value;
  }
  KILN_ASSIGN_OR_RETURN(Tensor out, allocate_output(fill.dtype(), Shape(dims), "ConstantOfShape"));
  ElementCopier copier(fill, out);
  for (int64_t i = 0; i < out.numel(); ++i) copier.copy(i, 0);
  ctx.outputs[0] = std::move(out);
  return {};
}

Result<int64_t> integer_range_count(int64_t start, int64_t limit, int64_t delta) {
  int64_t diff = 0;
  if (__builtin_sub_overflow(limit, start, &diff))
    return invalid_argument("Range: limit - start overflows int64 (start " + std::to_string(start) + ", limit " +
                            std::to_string(limit) + ")");
  if (delta > 0) return diff <= 0 ? 0 : (diff - 1) / delta + 1;
  return diff >= 0 ? 0 : (diff + 1) / delta + 1;
}

Status range_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* start, required_input(ctx, 0, "Range"));
  KILN_ASSIGN_OR_RETURN(const Tensor* limit, required_input(ctx, 1, "Range"));
  KILN_ASSIGN_OR_RETURN(const Tensor* delta, required_input(ctx, 2, "Range"));
  const DType dtype = start->dtype();
  if (limit->dtype() != dtype || delta->dtype() != dtype || dtype == DType::kBytes || dtype == DType::kBool)
    return invalid_argument("Range: start, limit and delta must share one numeric dtype, got " +
                            std::string(dtype_name(dtype)) + ", " + std::string(dtype_name(limit->dtype())) + ", " +
                            std::string(dtype_name(delta->dtype())));
  for (const Tensor* t : {start, limit, delta})
    if (t->numel() != 1) return invalid_argument("Range: start, limit and delta must be scalars, got shape " + t->shape().to_string());
  const double d_start = to_doubles(*start)[0], d_limit = to_doubles(*limit)[0], d_delta = to_doubles(*delta)[0];
  if (d_delta == 0) return invalid_argument("Range: delta is 0");
  Status status;
  if (dtype_is_integer(dtype)) {
    KILN_ASSIGN_OR_RETURN(int64_t i_start, read_scalar_int(*start, "Range input 'start'"));
    KILN_ASSIGN_OR_RETURN(int64_t i_limit, read_scalar_int(*limit, "Range input 'limit'"));
    KILN_ASSIGN_OR_RETURN(int64_t i_delta, read_scalar_int(*delta, "Range input 'delta'"));
    KILN_ASSIGN_OR_RETURN(int64_t count, integer_range_count(i_start, i_limit, i_delta));
    KILN_ASSIGN_OR_RETURN(Tensor out, allocate_output(dtype, Shape{count}, "Range"));
    visit_dtype(dtype, [&](auto tag) {
      using T = decltype(tag);
      // Every value lies between start and limit, so the product never leaves int64.
      for (int64_t i = 0; i < count; ++i) out.data<T>()[i] = static_cast<T>(i_start + i * i_delta);
    });
    ctx.outputs[0] = std::move(out);
    return {};
  }
  const double steps = std::ceil((d_limit - d_start) / d_delta);
  if (!std::isfinite(steps) || steps > static_cast<double>(kMaxOutputElements))
    return invalid_argument("Range: start " + std::to_string(d_start) + ", limit " + std::to_string(d_limit) +
                            ", delta " + std::to_string(d_delta) + " give too many elements");
  const auto count = static_cast<int64_t>(std::max(steps, 0.0));
  std::vector<double> values(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) values[static_cast<size_t>(i)] = d_start + static_cast<double>(i) * d_delta;
  ctx.outputs[0] = from_doubles(dtype, Shape{count}, values);
  return {};
}

Status one_hot_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* indices_input, required_input(ctx, 0, "OneHot"));
  KILN_ASSIGN_OR_RETURN(const Tensor* depth_input, required_input(ctx, 1, "OneHot"));
  KILN_ASSIGN_OR_RETURN(const Tensor* values, required_input(ctx, 2, "OneHot"));
  if (indices_input->dtype() == DType::kBytes || indices_input->dtype() == DType::kBool)
    return invalid_argument("OneHot: indices must be numeric, got " + std::string(dtype_name(indices_input->dtype())));
  if (values->numel() != 2)
    return invalid_argument("OneHot: values must hold [off_value, on_value], got shape " + values->shape().to_string());
  KILN_ASSIGN_OR_RETURN(int64_t depth, read_scalar_int(*depth_input, "OneHot input 'depth'"));
  if (depth <= 0) return invalid_argument("OneHot: depth " + std::to_string(depth) + " must be positive");
  const auto in_rank = static_cast<int64_t>(indices_input->rank());
  int64_t axis = ctx.attributes().get_int("axis", -1);
  if (axis < -in_rank - 1 || axis > in_rank)
    return invalid_argument("OneHot: axis " + std::to_string(axis) + " is out of range for output rank " + std::to_string(in_rank + 1));
  if (axis < 0) axis += in_rank + 1;
  std::vector<int64_t> out_dims = indices_input->shape().dims();
  out_dims.insert(out_dims.begin() + axis, depth);
  KILN_ASSIGN_OR_RETURN(Tensor out, allocate_output(values->dtype(), Shape(out_dims), "OneHot"));
  constexpr int64_t kOff = 0, kOn = 1;
  ElementCopier copier(*values, out);
  for (int64_t i = 0; i < out.numel(); ++i) copier.copy(i, kOff);
  int64_t inner = 1;
  for (int64_t d = axis; d < in_rank; ++d) inner *= indices_input->shape()[static_cast<size_t>(d)];
  const std::vector<double> indices = to_doubles(*indices_input);
  for (size_t j = 0; j < indices.size(); ++j) {
    // ONNX: an index outside [-depth, depth) gives a row of off values, not an error.
    const double v = std::trunc(indices[j]);
    if (!(v >= static_cast<double>(-depth) && v < static_cast<double>(depth))) continue;
    const int64_t hot = v < 0 ? static_cast<int64_t>(v) + depth : static_cast<int64_t>(v);
    const int64_t outer_part = static_cast<int64_t>(j) / inner, inner_part = static_cast<int64_t>(j) % inner;
    copier.copy((outer_part * depth + hot) * inner + inner_part, kOn);
  }
  ctx.outputs[0] = std::move(out);
  return {};
}

Status eye_like_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* input, required_input(ctx, 0, "EyeLike"));
  if (input->rank() != 2) return invalid_argument("EyeLike: input must be 2-D, got shape " + input->shape().to_string());
  DType dtype = input->dtype();
  if (ctx.attributes().has("dtype")) {
    const int64_t code = ctx.attributes().get_int("dtype", 0);
    auto mapped = dtype_from_onnx(static_cast<int32_t>(code));
    if (!mapped || code != static_cast<int32_t>(code))
      return invalid_argument("EyeLike: attribute 'dtype' " + std::to_string(code) + " is not a supported ONNX data type");
    dtype = *mapped;
  }
  if (dtype == DType::kBytes) return invalid_argument("EyeLike: dtype must be numeric or bool, got bytes");
  const int64_t k = ctx.attributes().get_int("k", 0);
  Tensor out(dtype, input->shape());
  const int64_t rows = input->shape()[0], cols = input->shape()[1];
  visit_dtype(dtype, [&](auto tag) {
    using T = decltype(tag);
    for (int64_t i = 0; i < rows; ++i) {
      if (k > cols || k < -rows) break;  // no diagonal entry; also keeps i + k from overflowing
      const int64_t j = i + k;
      if (j >= 0 && j < cols) out.data<T>()[i * cols + j] = convert_element<T>(1.0);
    }
  });
  ctx.outputs[0] = std::move(out);
  return {};
}

Status non_zero_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* input, required_input(ctx, 0, "NonZero"));
  std::vector<bool> nonzero(static_cast<size_t>(input->numel()));
  if (input->dtype() == DType::kBytes) {
    for (size_t i = 0; i < nonzero.size(); ++i) nonzero[i] = !input->strings()[i].empty();
  } else {
    visit_dtype(input->dtype(), [&](auto tag) {
      using T = decltype(tag);
      for (size_t i = 0; i < nonzero.size(); ++i) nonzero[i] = convert_element<double>(input->data<T>()[i]) != 0.0;
    });
  }
  std::vector<std::vector<int64_t>> positions;
  for_each_index(input->shape(), [&, flat = size_t{0}](const std::vector<int64_t>& idx) mutable {
    if (nonzero[flat++]) positions.push_back(idx);
  });
  const size_t rank = input->rank();
  const auto count = static_cast<int64_t>(positions.size());
  Tensor out(DType::kInt64, Shape{static_cast<int64_t>(rank), count});
  for (size_t d = 0; d < rank; ++d)
    for (int64_t p = 0; p < count; ++p) out.data<int64_t>()[static_cast<int64_t>(d) * count + p] = positions[static_cast<size_t>(p)][d];
  ctx.outputs[0] = std::move(out);
  return {};
}

Status trilu_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* input, required_input(ctx, 0, "Trilu"));
  if (input->rank() < 2) return invalid_argument("Trilu: input must have rank >= 2, got shape " + input->shape().to_string());
  int64_t k = 0;
  if (const Tensor* k_input = ctx.input(1); k_input != nullptr && k_input->defined()) {
    KILN_ASSIGN_OR_RETURN(std::vector<int64_t> k_values, read_indices(*k_input, "Trilu input 'k'"));
    if (k_values.size() != 1) return invalid_argument("Trilu: k must be a scalar, got shape " + k_input->shape().to_string());
    k = k_values[0];
  }
  const bool upper = ctx.attributes().get_int("upper", 1) != 0;
  Tensor out(input->dtype(), input->shape());
  ElementCopier copier(*input, out);
  const size_t rank = input->rank();
  int64_t flat = 0;
  for_each_index(input->shape(), [&](const std::vector<int64_t>& idx) {
    // Compare j - i with k without overflow: |j - i| is below the matrix size.
    const int64_t offset = idx[rank - 1] - idx[rank - 2];
    if (upper ? offset >= k : offset <= k) copier.copy(flat, flat);
    ++flat;
  });
  ctx.outputs[0] = std::move(out);
  return {};
}

}  // namespace

void register_tensor_create_kernels(KernelTable& table) {
  table.add(OpKind::Constant, constant_kernel);
  table.add(OpKind::ConstantOfShape, constant_of_shape_kernel);
  table.add(OpKind::Range, range_kernel);
  table.add(OpKind::OneHot, one_hot_kernel);
  table.add(OpKind::EyeLike, eye_like_kernel);
  table.add(OpKind::NonZero, non_zero_kernel);
  table.add(OpKind::Trilu, trilu_kernel);
}

}  // namespace kiln::reference::tensor_ops
