// Reference linear (de)quantization, opset-13 form.
//   QuantizeLinear:        y = saturate(round_half_to_even(x / scale) + zero_point)
//   DequantizeLinear:      y = (x - zero_point) * scale                      (float32)
//   DynamicQuantizeLinear: uint8 with scale = (max(0, max x) - min(0, min x)) / 255 and
//                          zero_point = saturate(round(0 - min(0, min x) / scale))
// Arithmetic is float32, as in the ONNX reference implementation, so results match it bit for bit
// (float64 input divides in double). Scales are per tensor (one element) or per axis (1-D, one per
// slice along `axis`).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "backends/reference/kernel.h"
#include "backends/reference/kernel_util.h"

namespace kiln::reference {
namespace {

constexpr size_t kDataInput = 0;
constexpr size_t kScaleInput = 1;
constexpr size_t kZeroPointInput = 2;
constexpr int64_t kDefaultAxis = 1;
constexpr DType kDefaultQuantizedDType = DType::kUInt8;

constexpr size_t kDynamicValuesOutput = 0;
constexpr size_t kDynamicScaleOutput = 1;
constexpr size_t kDynamicZeroPointOutput = 2;
constexpr float kUInt8Min = 0.0F;
constexpr float kUInt8Max = 255.0F;

// Which scale / zero point applies to each element: all the same (per tensor), or the one of
// the element's index along `axis`.
struct ScaleLayout {
  int64_t channels = 1;
  int64_t inner = 1;  // elements per step along the axis

  int64_t channel_of(int64_t flat) const { return channels == 1 ? 0 : (flat / inner) % channels; }
};

Result<ScaleLayout> scale_layout(const std::string& op, const Tensor& data, const Tensor& scale,
                                 const Tensor* zero_point, const Attributes& attrs) {
  if (!dtype_is_floating(scale.dtype()))
    return invalid_argument(op + ": the scale must be a float tensor, got " + std::string(dtype_name(scale.dtype())));
  if (scale.rank() > 1)
    return invalid_argument(op + ": the scale must be a scalar or 1-D, got shape " + scale.shape().to_string());
  if (zero_point && zero_point->numel() != scale.numel())
    return invalid_argument(op + ": the zero point has shape " + zero_point->shape().to_string() +
                            " but the scale has shape " + scale.shape().to_string() + "; they must match");
  ScaleLayout layout;
  if (scale.numel() == 1) return layout;
  const auto rank = static_cast<int64_t>(data.rank());
  int64_t axis = attrs.get_int("axis", kDefaultAxis);
  if (axis < -rank || axis >= rank)
    return invalid_argument(op + ": attribute 'axis' " + std::to_string(axis) + " is out of range for rank " +
                            std::to_string(rank));
  if (axis < 0) axis += rank;
  const int64_t along = data.shape()[static_cast<size_t>(axis)];
  if (scale.numel() != along)
    return invalid_argument(op + ": the scale has " + std::to_string(scale.numel()) + " elements but the data has " +
                            std::to_string(along) + " along axis " + std::to_string(axis));
  layout.channels = along;
  for (size_t d = static_cast<size_t>(axis) + 1; d < data.rank(); ++d) layout.inner *= data.shape()[d];
  return layout;
}

// Rounds half to even (the default floating-point rounding mode) and clamps to Q's range. NaN
// has no integer meaning; it maps to the zero point so the result stays defined.
template <class Q>
Q saturate_round(double ratio, double zero_point) {
  constexpr double kLow = std::numeric_limits<Q>::lowest();
  constexpr double kHigh = std::numeric_limits<Q>::max();
  const double rounded = std::isnan(ratio) ? 0.0 : std::nearbyint(ratio);
  return static_cast<Q>(std::clamp(rounded + zero_point, kLow, kHigh));
}

// x / scale in the precision the spec's reference uses: float32, or double for double input.
double quantization_ratio(DType data_dtype, double x, double scale) {
  if (data_dtype == DType::kFloat64) return x / scale;
  return static_cast<double>(static_cast<float>(x) / static_cast<float>(scale));
}

Status quantize_linear_kernel(KernelContext& ctx) {
  const std::string op = "QuantizeLinear";
  const Tensor* data = ctx.input(kDataInput);
  const Tensor* scale = ctx.input(kScaleInput);
  const Tensor* zero_point = ctx.input(kZeroPointInput);
  if (!data || !scale) return invalid_argument(op + ": inputs 'x' and 'y_scale' are required");
  const DType out_dtype = zero_point ? zero_point->dtype() : kDefaultQuantizedDType;
  if (out_dtype != DType::kUInt8 && out_dtype != DType::kInt8)
    return invalid_argument(op + ": input 'y_zero_point' must be uint8 or int8, got " +
                            std::string(dtype_name(out_dtype)));
  if (!dtype_is_floating(data->dtype()) && data->dtype() != DType::kInt32)
    return unsupported_dtype(op.c_str(), data->dtype());
  KILN_ASSIGN_OR_RETURN(ScaleLayout layout, scale_layout(op, *data, *scale, zero_point, ctx.attributes()));
  const std::vector<double> x = to_doubles(*data);
  const std::vector<double> scales = to_doubles(*scale);
  const std::vector<double> zero_points = zero_point ? to_doubles(*zero_point) : std::vector<double>(scales.size(), 0.0);
  Tensor out(out_dtype, data->shape());
  for (size_t i = 0; i < x.size(); ++i) {
    const auto c = static_cast<size_t>(layout.channel_of(static_cast<int64_t>(i)));
    const double ratio = quantization_ratio(data->dtype(), x[i], scales[c]);
    if (out_dtype == DType::kUInt8) out.data<uint8_t>()[i] = saturate_round<uint8_t>(ratio, zero_points[c]);
    else out.data<int8_t>()[i] = saturate_round<int8_t>(ratio, zero_points[c]);
  }
  ctx.outputs[0] = std::move(out);
  return {};
}

Status dequantize_linear_kernel(KernelContext& ctx) {
  const std::string op = "DequantizeLinear";
  const Tensor* data = ctx.input(kDataInput);
  const Tensor* scale = ctx.input(kScaleInput);
  const Tensor* zero_point = ctx.input(kZeroPointInput);
  if (!data || !scale) return invalid_argument(op + ": inputs 'x' and 'x_scale' are required");
  const DType dtype = data->dtype();
  if (dtype != DType::kUInt8 && dtype != DType::kInt8 && dtype != DType::kInt32)
    return unsupported_dtype(op.c_str(), dtype);
  if (zero_point && zero_point->dtype() != dtype)
    return invalid_argument(op + ": input 'x_zero_point' is " + std::string(dtype_name(zero_point->dtype())) +
                            " but 'x' is " + std::string(dtype_name(dtype)) + "; they must match");
  KILN_ASSIGN_OR_RETURN(ScaleLayout layout, scale_layout(op, *data, *scale, zero_point, ctx.attributes()));
  // Integer inputs and zero points are exact in double (at most 32 bits), so the subtraction
  // is exact before it is rounded once to float.
  const std::vector<double> x = to_doubles(*data);
  const std::vector<double> scales = to_doubles(*scale);
  const std::vector<double> zero_points = zero_point ? to_doubles(*zero_point) : std::vector<double>(scales.size(), 0.0);
  Tensor out(DType::kFloat32, data->shape());
  float* dst = out.data<float>();
  for (size_t i = 0; i < x.size(); ++i) {
    const auto c = static_cast<size_t>(layout.channel_of(static_cast<int64_t>(i)));
    dst[i] = static_cast<float>(x[i] - zero_points[c]) * static_cast<float>(scales[c]);
  }
  ctx.outputs[0] = std::move(out);
  return {};
}

Status dynamic_quantize_linear_kernel(KernelContext& ctx) {
  const Tensor* data = ctx.input(kDataInput);
  if (!data) return invalid_argument("DynamicQuantizeLinear: input 'x' is required");
  if (data->dtype() != DType::kFloat32) return unsupported_dtype("DynamicQuantizeLinear", data->dtype());
  const float* x = data->data<float>();
  // The range always includes 0 so that 0 is exactly representable. NaNs are skipped.
  float low = 0.0F;
  float high = 0.0F;
  for (int64_t i = 0; i < data->numel(); ++i) {
    if (std::isnan(x[i])) continue;
    low = std::min(low, x[i]);
    high = std::max(high, x[i]);
  }
  const float scale = (high - low) / (kUInt8Max - kUInt8Min);
  // An all-zero input gives scale 0; zero point 0 then quantizes every element to 0.
  uint8_t zero_point = 0;
  if (scale > 0.0F && std::isfinite(scale)) {
    const float intermediate = kUInt8Min - low / scale;
    zero_point = static_cast<uint8_t>(std::nearbyint(std::clamp(intermediate, kUInt8Min, kUInt8Max)));
  }
  Tensor values(DType::kUInt8, data->shape());
  for (int64_t i = 0; i < data->numel(); ++i) {
    const double ratio = scale > 0.0F ? static_cast<double>(x[i] / scale) : 0.0;
    values.data<uint8_t>()[i] = saturate_round<uint8_t>(ratio, zero_point);
  }
  ctx.outputs[kDynamicValuesOutput] = std::move(values);
  ctx.outputs[kDynamicScaleOutput] = Tensor::from_vector(DType::kFloat32, Shape{}, std::vector<float>{scale});
  ctx.outputs[kDynamicZeroPointOutput] = Tensor::from_vector(DType::kUInt8, Shape{}, std::vector<uint8_t>{zero_point});
  return {};
}

}  // namespace

void register_quantize_kernels(KernelTable& table) {
  table.add(OpKind::QuantizeLinear, quantize_linear_kernel);
  table.add(OpKind::DequantizeLinear, dequantize_linear_kernel);
  table.add(OpKind::DynamicQuantizeLinear, dynamic_quantize_linear_kernel);
}

}  // namespace kiln::reference
