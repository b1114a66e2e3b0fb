// Schemas of the ops that create tensors: Constant, ConstantOfShape, Range, OneHot, EyeLike and
// Trilu (same shape as its input).
#include <cmath>
#include <type_traits>

#include "core/dtype_dispatch.h"
#include "core/onnx_dtype.h"
#include "ir/ops/tensor_schemas.h"

namespace kiln::ir::tensor_schemas {
namespace {

Status infer_constant(InferContext& ctx) {
  const Attributes& a = ctx.attrs();
  std::vector<ValueType> found;
  auto vector_of = [](DType dtype, size_t n) { return ValueType{dtype, SymShape{Dim::known(static_cast<int64_t>(n))}}; };
  if (const Tensor* value = a.get_tensor("value")) found.push_back({value->dtype(), sym_shape_from(value->shape())});
  if (a.has("value_float")) found.push_back({DType::kFloat32, SymShape{}});
  if (a.has("value_floats")) found.push_back(vector_of(DType::kFloat32, a.get_floats("value_floats").size()));
  if (a.has("value_int")) found.push_back({DType::kInt64, SymShape{}});
  if (a.has("value_ints")) found.push_back(vector_of(DType::kInt64, a.get_ints("value_ints").size()));
  if (a.has("value_string")) found.push_back({DType::kBytes, SymShape{}});
  if (a.has("value_strings")) found.push_back(vector_of(DType::kBytes, a.get_strings("value_strings").size()));
  if (a.has("sparse_value")) return unimplemented(ctx.node().describe() + ": attribute 'sparse_value' is not supported");
  if (found.size() != 1)
    return ctx.error("needs exactly one of value, value_float(s), value_int(s), value_string(s); got " +
                     std::to_string(found.size()));
  ctx.set_output(0, found[0]);
  return {};
}

Status infer_constant_of_shape(InferContext& ctx) {
  DType dtype = DType::kFloat32;
  if (const Tensor* value = ctx.attrs().get_tensor("value")) {
    if (value->numel() != 1) return ctx.error("attribute 'value' must hold one element");
    dtype = value->dtype();
  }
  if (auto dims = constant_ints(ctx, 0)) {
    SymShape out;
    for (int64_t d : *dims) {
      if (d < 0) return ctx.error("shape has negative dim " + std::to_string(d));
      out.push_back(Dim::known(d));
    }
    KILN_RETURN_IF_ERROR(check_element_count(ctx, out));
    ctx.set_output(0, dtype, std::move(out));
    return {};
  }
  std::optional<int64_t> rank = known_length(ctx, 0);
  ctx.set_output(0, dtype, rank ? std::optional<SymShape>(unknown_dims(static_cast<size_t>(*rank))) : std::nullopt);
  return {};
}

// The scalar value of a constant input as double, or nullopt.
std::optional<double> constant_scalar(const InferContext& ctx, size_t i) {
  const Tensor* t = ctx.input_constant(i);
  if (!t || t->numel() != 1) return std::nullopt;
  std::optional<double> out;
  visit_dtype(t->dtype(), [&](auto tag) {
    using T = decltype(tag);
    out = convert_element<double>(t->data<T>()[0]);
  });
  return out;
}

// The scalar value of a constant integer input, exactly; nullopt otherwise.
std::optional<int64_t> constant_integer(const InferContext& ctx, size_t i) {
  const Tensor* t = ctx.input_constant(i);
  if (!t || t->numel() != 1 || !dtype_is_integer(t->dtype()) || t->dtype() == DType::kUInt64) return std::nullopt;
  std::optional<int64_t> out;
  visit_dtype(t->dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_integral_v<T>) out = static_cast<int64_t>(t->data<T>()[0]);
  });
  return out;
}

// ceil((limit - start) / delta) clamped at 0, counted exactly; nullopt when it overflows.
std::optional<int64_t> integer_range_count(int64_t start, int64_t limit, int64_t delta) {
  int64_t diff = 0;
  if (__builtin_sub_overflow(limit, start, &diff)) return std::nullopt;
  if (delta > 0) return diff <= 0 ? 0 : (diff - 1) / delta + 1;
  return diff >= 0 ? 0 : (diff + 1) / delta + 1;
}

Status infer_range(InferContext& ctx) {
  const DType dtype = ctx.input_dtype(0);
  if (ctx.input_dtype(1) != dtype || ctx.input_dtype(2) != dtype)
    return ctx.error("start, limit and delta must share one dtype");
  Dim count;
  if (dtype_is_integer(dtype)) {
    auto start = constant_integer(ctx, 0), limit = constant_integer(ctx, 1), delta = constant_integer(ctx, 2);
    if (delta && *delta == 0) return ctx.error("delta is 0");
    if (start && limit && delta)
      if (auto n = integer_range_count(*start, *limit, *delta)) count = Dim::known(*n);
  } else {
    auto start = constant_scalar(ctx, 0), limit = constant_scalar(ctx, 1), delta = constant_scalar(ctx, 2);
    if (delta && *delta == 0) return ctx.error("delta is 0");
    if (start && limit && delta) {
      const double steps = std::ceil((*limit - *start) / *delta);
      constexpr double kExactLimit = 9007199254740992.0;  // 2^53: counts above are left to the kernel
      if (std::isfinite(steps) && steps < kExactLimit) count = Dim::known(static_cast<int64_t>(std::max(steps, 0.0)));
    }
  }
  ctx.set_output(0, dtype, SymShape{count});
  return {};
}

Status infer_one_hot(InferContext& ctx) {
  const DType dtype = ctx.input_dtype(2);
  const SymShape* in = ctx.input_shape(0);
  if (!in) {
    ctx.set_output(0, dtype, std::nullopt);
    return {};
  }
  const auto out_rank = static_cast<int64_t>(in->size()) + 1;
  int64_t axis = ctx.attrs().get_int("axis", -1);
  if (axis < -out_rank || axis >= out_rank)
    return ctx.error("axis " + std::to_string(axis) + " is out of range for output rank " + std::to_string(out_rank));
  if (axis < 0) axis += out_rank;
  Dim depth_dim;
  if (auto depth = constant_scalar(ctx, 1)) {
    if (!(*depth >= 1)) return ctx.error("depth must be positive");
    constexpr double kLargestExactDepth = 9007199254740992.0;  // 2^53; larger depths fail in the kernel
    if (*depth < kLargestExactDepth) depth_dim = Dim::known(static_cast<int64_t>(*depth));
  }
  SymShape out = *in;
  out.insert(out.begin() + axis, depth_dim);
  ctx.set_output(0, dtype, std::move(out));
  return {};
}

Status infer_eye_like(InferContext& ctx) {
  DType dtype = ctx.input_dtype(0);
  if (ctx.attrs().has("dtype")) {
    const int64_t code = ctx.attrs().get_int("dtype", 0);
    auto mapped = dtype_from_onnx(static_cast<int32_t>(code));
    if (!mapped || code != static_cast<int32_t>(code))
      return ctx.error("attribute 'dtype' " + std::to_string(code) + " is not a supported ONNX data type");
    dtype = *mapped;
  }
  const SymShape* in = ctx.input_shape(0);
  if (in && in->size() != 2) return ctx.error("input must be 2-D, got " + sym_shape_to_string(*in));
  ctx.set_output(0, dtype, in ? std::optional<SymShape>(*in) : unknown_dims(2));
  return {};
}

Status infer_trilu(InferContext& ctx) {
  const SymShape* in = ctx.input_shape(0);
  if (in && in->size() < 2) return ctx.error("input must have rank >= 2, got " + sym_shape_to_string(*in));
  return infer_same_as_input(ctx, 0);
}

}  // namespace

void register_create_schemas(SchemaRegistry& registry) {
  registry.add({OpKind::Constant, 0, 0, 1, 1, with_required_inputs<0, infer_constant>, zero_flops});
  registry.add({OpKind::ConstantOfShape, 1, 1, 1, 1, with_required_inputs<1, infer_constant_of_shape>, zero_flops});
  registry.add({OpKind::Range, 3, 3, 1, 1, with_required_inputs<3, infer_range>, nullptr});
  registry.add({OpKind::OneHot, 3, 3, 1, 1, with_required_inputs<3, infer_one_hot>, zero_flops});
  registry.add({OpKind::EyeLike, 1, 1, 1, 1, with_required_inputs<1, infer_eye_like>, zero_flops});
  registry.add({OpKind::Trilu, 1, 2, 1, 1, with_required_inputs<1, infer_trilu>, zero_flops});
}

}  // namespace kiln::ir::tensor_schemas
