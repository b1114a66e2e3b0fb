// Schema of Resize (opset 13-17 form: X, roi, scales, sizes; an empty tensor means absent).
#include <cmath>
#include <string>

#include "ir/ops/infer_util.h"
#include "ir/ops/linalg_schemas.h"

namespace kiln::ir::linalg {
namespace {

enum ResizeInput : size_t { kX = 0, kRoi = 1, kScales = 2, kSizes = 3 };

// Taps per resized dim, for the FLOP estimate.
constexpr double kNearestTaps = 1.0;
constexpr double kLinearTaps = 2.0;
constexpr double kCubicTaps = 4.0;

enum class Presence { kAbsent, kPresent, kUnknown };

// An optional input is absent when not connected or when it is a tensor with no elements.
Presence presence_of(const InferContext& ctx, size_t i) {
  if (!ctx.has_input(i)) return Presence::kAbsent;
  if (const Tensor* t = ctx.input_constant(i)) return t->numel() == 0 ? Presence::kAbsent : Presence::kPresent;
  const SymShape* shape = ctx.input_shape(i);
  if (!shape || shape->size() != 1 || !(*shape)[0].is_known()) return Presence::kUnknown;
  return (*shape)[0].value == 0 ? Presence::kAbsent : Presence::kPresent;
}

Status check_choice(const InferContext& ctx, const char* attr, const std::string& fallback,
                    std::initializer_list<const char*> allowed) {
  const std::string value = ctx.attrs().get_string(attr, fallback);
  std::string list;
  for (const char* a : allowed) {
    if (value == a) return {};
    list += (list.empty() ? "" : ", ") + std::string(a);
  }
  return ctx.error("attribute " + std::string(attr) + " is '" + value + "'; expected one of: " + list);
}

Status check_attributes(const InferContext& ctx) {
  KILN_RETURN_IF_ERROR(check_choice(ctx, "mode", "nearest", {"nearest", "linear", "cubic"}));
  KILN_RETURN_IF_ERROR(check_choice(ctx, "coordinate_transformation_mode", "half_pixel",
                                    {"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric",
                                     "tf_crop_and_resize"}));
  return check_choice(ctx, "nearest_mode", "round_prefer_floor",
                      {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"});
}

constexpr double kMaxResizedDim = 4611686018427387904.0;  // 2^62

Result<SymShape> shape_from_scales(const InferContext& ctx, const SymShape& in, const Tensor& scales) {
  if (scales.dtype() != DType::kFloat32)
    return ctx.error("scales must be float32, got " + std::string(dtype_name(scales.dtype())));
  if (static_cast<size_t>(scales.numel()) != in.size())
    return ctx.error("scales has " + std::to_string(scales.numel()) + " values but X has rank " +
                     std::to_string(in.size()));
  SymShape out(in.size());
  for (size_t d = 0; d < in.size(); ++d) {
    const double scale = scales.data<float>()[d];
    if (!(scale > 0.0)) return ctx.error("scales[" + std::to_string(d) + "] must be positive, got " + std::to_string(scale));
    if (in[d].is_known()) {
      const double size = std::floor(static_cast<double>(in[d].value) * scale);
      // Beyond 2^62 the cast to int64 is undefined; no real tensor gets near it.
      if (!(size < kMaxResizedDim)) return ctx.error("scales[" + std::to_string(d) + "] makes dimension " +
                                                     std::to_string(d) + " absurdly large");
      out[d] = Dim::known(static_cast<int64_t>(size));
    }
    else if (scale == 1.0) out[d] = in[d];
  }
  return out;
}

Result<SymShape> shape_from_sizes(const InferContext& ctx, const SymShape& in, const std::vector<int64_t>& sizes) {
  if (sizes.size() != in.size())
    return ctx.error("sizes has " + std::to_string(sizes.size()) + " values but X has rank " + std::to_string(in.size()));
  SymShape out(in.size());
  for (size_t d = 0; d < in.size(); ++d) {
    if (sizes[d] < 0) return ctx.error("sizes[" + std::to_string(d) + "] is negative: " + std::to_string(sizes[d]));
    out[d] = Dim::known(sizes[d]);
  }
  return out;
}

Status infer_resize(InferContext& ctx) {
  if (!ctx.has_input(kX)) return ctx.error("input 0 (X) is required");
  KILN_RETURN_IF_ERROR(check_attributes(ctx));
  const Presence scales = presence_of(ctx, kScales);
  const Presence sizes = presence_of(ctx, kSizes);
  if (scales == Presence::kPresent && sizes == Presence::kPresent)
    return ctx.error("both scales and sizes are given; exactly one must be");
  if (scales == Presence::kAbsent && sizes == Presence::kAbsent)
    return ctx.error("neither scales nor sizes is given; exactly one must be");
  if (ctx.has_input(kSizes) && ctx.input_dtype(kSizes) != DType::kInt64)
    return ctx.error("sizes must be int64, got " + std::string(dtype_name(ctx.input_dtype(kSizes))));

  const DType dtype = ctx.input_dtype(kX);
  const SymShape* in = ctx.input_shape(kX);
  if (!in) {
    ctx.set_output(0, dtype, std::nullopt);
    return {};
  }
  if (scales == Presence::kPresent && ctx.input_constant(kScales)) {
    KILN_ASSIGN_OR_RETURN(SymShape out, shape_from_scales(ctx, *in, *ctx.input_constant(kScales)));
    ctx.set_output(0, dtype, std::move(out));
    return {};
  }
  if (sizes == Presence::kPresent) {
    if (auto values = constant_ints(ctx, kSizes)) {
      KILN_ASSIGN_OR_RETURN(SymShape out, shape_from_sizes(ctx, *in, *values));
      ctx.set_output(0, dtype, std::move(out));
      return {};
    }
  }
  ctx.set_output(0, dtype, unknown_dims(in->size()));
  return {};
}

double resize_flops(const Node& node, const std::vector<Shape>& inputs, const std::vector<Shape>& outputs) {
  if (inputs.empty() || outputs.empty()) return 0.0;
  const std::string mode = node.attrs().get_string("mode", "nearest");
  const double taps_per_dim = mode == "cubic" ? kCubicTaps : mode == "linear" ? kLinearTaps : kNearestTaps;
  double taps = 1.0;
  for (size_t d = 0; d < outputs[0].rank() && d < inputs[0].rank(); ++d)
    if (outputs[0][d] != inputs[0][d]) taps *= taps_per_dim;
  return known_numel(outputs[0]) * taps;
}

}  // namespace

void register_resize_schema(SchemaRegistry& registry) {
  registry.add({OpKind::Resize, 1, 4, 1, 1, infer_resize, resize_flops});
}

}  // namespace kiln::ir::linalg
