// Schemas of linear (de)quantization in their opset-13 form: QuantizeLinear (x, y_scale,
// optional y_zero_point whose dtype picks the output dtype, default uint8; attribute axis for
// per-axis scales), DequantizeLinear (x, x_scale, optional x_zero_point; float32 output) and
// DynamicQuantizeLinear (x -> uint8 y, float32 scale, uint8 zero point).
#include <string>

#include "ir/ops/families.h"
#include "ir/ops/infer_util.h"

namespace kiln::ir {
namespace {

constexpr size_t kDataInput = 0;
constexpr size_t kScaleInput = 1;
constexpr size_t kZeroPointInput = 2;
constexpr int64_t kDefaultQuantAxis = 1;
constexpr DType kDefaultQuantizedDType = DType::kUInt8;
constexpr DType kDequantizedDType = DType::kFloat32;

constexpr size_t kDynamicValuesOutput = 0;
constexpr size_t kDynamicScaleOutput = 1;
constexpr size_t kDynamicZeroPointOutput = 2;

std::string name_of(DType dtype) { return std::string(dtype_name(dtype)); }

// Scale (and zero point) are a scalar/1-element tensor for per-tensor quantization, or a 1-D
// tensor matching the data's size along `axis` for per-axis quantization.
Status check_scale_layout(const InferContext& ctx, const std::string& scale_name, const std::string& zp_name) {
  if (!dtype_is_floating(ctx.input_dtype(kScaleInput)) || ctx.input_dtype(kScaleInput) == DType::kFloat8E4M3)
    return ctx.error("input '" + scale_name + "' must be a float tensor, got " + name_of(ctx.input_dtype(kScaleInput)));
  const SymShape* scale = ctx.input_shape(kScaleInput);
  if (!scale) return {};
  if (scale->size() > 1)
    return ctx.error("input '" + scale_name + "' must be a scalar or 1-D, got shape " + sym_shape_to_string(*scale));
  if (ctx.has_input(kZeroPointInput)) {
    const SymShape* zp = ctx.input_shape(kZeroPointInput);
    if (zp && shape_of(*zp).is_static() && shape_of(*scale).is_static() &&
        shape_of(*zp).numel() != shape_of(*scale).numel())
      return ctx.error("input '" + zp_name + "' has shape " + sym_shape_to_string(*zp) + " but '" + scale_name +
                       "' has shape " + sym_shape_to_string(*scale) + "; they must match");
  }
  const bool per_axis = scale->size() == 1 && !((*scale)[0].is_known() && (*scale)[0].value == 1);
  const SymShape* data = ctx.input_shape(kDataInput);
  if (!per_axis || !data) return {};
  const auto rank = static_cast<int64_t>(data->size());
  const int64_t axis = ctx.attrs().get_int("axis", kDefaultQuantAxis);
  if (axis < -rank || axis >= rank)
    return ctx.error("attribute 'axis' " + std::to_string(axis) + " is out of range for an input of rank " +
                     std::to_string(rank));
  const Dim& along = (*data)[static_cast<size_t>(axis < 0 ? axis + rank : axis)];
  if (along.is_known() && (*scale)[0].is_known() && along.value != (*scale)[0].value)
    return ctx.error("input '" + scale_name + "' has " + std::to_string((*scale)[0].value) +
                     " elements but the data has " + std::to_string(along.value) + " along axis " +
                     std::to_string(axis));
  return {};
}

Status infer_quantize(InferContext& ctx) {
  const DType x = ctx.input_dtype(kDataInput);
  if (!(x == DType::kInt32 || (dtype_is_floating(x) && x != DType::kFloat8E4M3)))
    return ctx.error("input 'x' must be float or int32, got " + name_of(x));
  DType out = kDefaultQuantizedDType;
  if (ctx.has_input(kZeroPointInput)) {
    out = ctx.input_dtype(kZeroPointInput);
    if (out != DType::kUInt8 && out != DType::kInt8)
      return ctx.error("input 'y_zero_point' must be uint8 or int8, got " + name_of(out));
  }
  KILN_RETURN_IF_ERROR(check_scale_layout(ctx, "y_scale", "y_zero_point"));
  ctx.set_output(0, out, ctx.input_type(kDataInput).shape);
  return {};
}

Status infer_dequantize(InferContext& ctx) {
  const DType x = ctx.input_dtype(kDataInput);
  if (x != DType::kUInt8 && x != DType::kInt8 && x != DType::kInt32)
    return ctx.error("input 'x' must be uint8, int8 or int32, got " + name_of(x));
  if (ctx.has_input(kZeroPointInput) && ctx.input_dtype(kZeroPointInput) != x)
    return ctx.error("input 'x_zero_point' is " + name_of(ctx.input_dtype(kZeroPointInput)) + " but 'x' is " +
                     name_of(x) + "; they must match");
  KILN_RETURN_IF_ERROR(check_scale_layout(ctx, "x_scale", "x_zero_point"));
  ctx.set_output(0, kDequantizedDType, ctx.input_type(kDataInput).shape);
  return {};
}

Status infer_dynamic_quantize(InferContext& ctx) {
  if (ctx.input_dtype(kDataInput) != DType::kFloat32)
    return ctx.error("input 'x' must be float32, got " + name_of(ctx.input_dtype(kDataInput)));
  ctx.set_output(kDynamicValuesOutput, DType::kUInt8, ctx.input_type(kDataInput).shape);
  ctx.set_output(kDynamicScaleOutput, DType::kFloat32, SymShape{});
  ctx.set_output(kDynamicZeroPointOutput, DType::kUInt8, SymShape{});
  return {};
}

}  // namespace

void register_quantize_schemas(SchemaRegistry& registry) {
  registry.add(OpSchema{.kind = OpKind::QuantizeLinear, .min_inputs = 2, .max_inputs = 3, .min_outputs = 1,
                        .max_outputs = 1, .infer = infer_quantize, .flops = nullptr});
  registry.add(OpSchema{.kind = OpKind::DequantizeLinear, .min_inputs = 2, .max_inputs = 3, .min_outputs = 1,
                        .max_outputs = 1, .infer = infer_dequantize, .flops = nullptr});
  registry.add(OpSchema{.kind = OpKind::DynamicQuantizeLinear, .min_inputs = 1, .max_inputs = 1, .min_outputs = 3,
                        .max_outputs = 3, .infer = infer_dynamic_quantize, .flops = nullptr});
}

}  // namespace kiln::ir
