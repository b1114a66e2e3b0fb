#include "core/conv_params.h"

#include <algorithm>
#include <optional>

#include "core/checked_math.h"

namespace kiln {
namespace {

std::string axis_text(size_t axis) { return "spatial axis " + std::to_string(axis); }

// A per-axis list attribute: absent gives `count` copies of `fallback`; present must have
// `count` entries, each >= `minimum`.
Result<std::vector<int64_t>> per_axis_list(const Attributes& attrs, const std::string& name, size_t count,
                                           int64_t fallback, int64_t minimum) {
  if (!attrs.has(name)) return std::vector<int64_t>(count, fallback);
  std::vector<int64_t> values = attrs.get_ints(name);
  if (values.size() != count)
    return invalid_argument("attribute '" + name + "' has " + std::to_string(values.size()) + " entries, expected " +
                            std::to_string(count) + " (one per spatial axis)");
  for (int64_t v : values)
    if (v < minimum)
      return invalid_argument("attribute '" + name + "' has value " + std::to_string(v) + ", expected >= " +
                              std::to_string(minimum));
  return values;
}

Result<AutoPad> decode_auto_pad(const Attributes& attrs) {
  const std::string text = attrs.get_string("auto_pad", "NOTSET");
  if (text == "NOTSET") return AutoPad::kNotSet;
  if (text == "SAME_UPPER") return AutoPad::kSameUpper;
  if (text == "SAME_LOWER") return AutoPad::kSameLower;
  if (text == "VALID") return AutoPad::kValid;
  return invalid_argument("attribute 'auto_pad' is '" + text + "', expected NOTSET, SAME_UPPER, SAME_LOWER or VALID");
}

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0 && (a < 0) != (b < 0)) ? 1 : 0); }

// Splits `total` padding between the two ends the way SAME_UPPER / SAME_LOWER ask. ONNX writes
// the split with floor division: a ConvTranspose output_shape larger than the transposed window
// gives a negative total, and floor division then extends the output at the end for every mode
// but SAME_UPPER (where it extends at the beginning), as the official test data expects.
void split_same_padding(AutoPad mode, int64_t total, AxisGeometry& g) {
  const int64_t smaller_half = floor_div(total, 2);
  if (mode == AutoPad::kSameUpper) {
    g.pad_begin = smaller_half;
    g.pad_end = total - smaller_half;
  } else {
    g.pad_begin = total - smaller_half;
    g.pad_end = smaller_half;
  }
}

// Ceiling division for b > 0 without forming a + b - 1 (which overflows near INT64_MAX).
int64_t ceil_div(int64_t a, int64_t b) { return a / b + (a % b > 0 ? 1 : 0); }

// The value of a checked computation, or an error naming the axis and what overflowed.
Result<int64_t> require_fits(std::optional<int64_t> value, size_t axis, const char* what) {
  if (value) return *value;
  return invalid_argument(axis_text(axis) + ": " + what + " overflows int64");
}

}  // namespace

Result<WindowAttrs> decode_window(const Attributes& attrs, std::vector<int64_t> kernel, bool allow_ceil_mode) {
  WindowAttrs w;
  const size_t rank = kernel.size();
  w.kernel = std::move(kernel);
  KILN_ASSIGN_OR_RETURN(w.auto_pad, decode_auto_pad(attrs));
  KILN_ASSIGN_OR_RETURN(w.strides, per_axis_list(attrs, "strides", rank, 1, 1));
  KILN_ASSIGN_OR_RETURN(w.dilations, per_axis_list(attrs, "dilations", rank, 1, 1));
  KILN_ASSIGN_OR_RETURN(w.pads, per_axis_list(attrs, "pads", 2 * rank, 0, 0));
  if (w.auto_pad != AutoPad::kNotSet) w.pads.assign(2 * rank, 0);  // auto_pad decides the padding
  const int64_t ceil_mode = attrs.get_int("ceil_mode", 0);
  if (ceil_mode != 0 && ceil_mode != 1)
    return invalid_argument("attribute 'ceil_mode' is " + std::to_string(ceil_mode) + ", expected 0 or 1");
  if (ceil_mode == 1 && !allow_ceil_mode) return invalid_argument("attribute 'ceil_mode' is not valid for this op");
  w.ceil_mode = ceil_mode == 1;
  // Validated here so that effective_kernel() cannot overflow for any caller.
  for (size_t axis = 0; axis < rank; ++axis) {
    if (w.kernel[axis] < 1)
      return invalid_argument(axis_text(axis) + " has kernel size " + std::to_string(w.kernel[axis]) + ", expected >= 1");
    auto dilated = checked_mul(w.kernel[axis] - 1, w.dilations[axis]);
    if (!dilated || !checked_add(*dilated, 1))
      return invalid_argument(axis_text(axis) + ": kernel size " + std::to_string(w.kernel[axis]) + " with dilation " +
                              std::to_string(w.dilations[axis]) + " overflows int64");
  }
  return w;
}

Result<std::vector<int64_t>> decode_kernel_shape(const Attributes& attrs, size_t spatial_rank,
                                                 const std::vector<int64_t>& weight_kernel) {
  if (!attrs.has("kernel_shape")) {
    if (weight_kernel.empty()) return invalid_argument("attribute 'kernel_shape' is required");
    return weight_kernel;
  }
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> kernel, per_axis_list(attrs, "kernel_shape", spatial_rank, 1, 1));
  if (!weight_kernel.empty() && kernel != weight_kernel)
    return invalid_argument("attribute 'kernel_shape' does not match the spatial dimensions of the weight");
  return kernel;
}

Result<AxisGeometry> forward_axis(const WindowAttrs& w, size_t axis, int64_t input) {
  AxisGeometry g;
  g.input = input;
  g.kernel = w.kernel[axis];
  g.stride = w.strides[axis];
  g.dilation = w.dilations[axis];
  const int64_t window = w.effective_kernel(axis);
  if (input < 0) return invalid_argument(axis_text(axis) + " has negative size " + std::to_string(input));
  switch (w.auto_pad) {
    case AutoPad::kSameUpper:
    case AutoPad::kSameLower: {
      g.output = ceil_div(input, g.stride);
      KILN_ASSIGN_OR_RETURN(int64_t covered, require_fits(checked_mul(g.output - 1, g.stride), axis, "the strided extent"));
      KILN_ASSIGN_OR_RETURN(covered, require_fits(checked_add(covered, window), axis, "the padded extent"));
      const int64_t total = std::max<int64_t>(0, covered - input);
      split_same_padding(w.auto_pad, total, g);
      return g;
    }
    case AutoPad::kValid:
    case AutoPad::kNotSet: {
      if (w.auto_pad == AutoPad::kNotSet) {
        g.pad_begin = w.pads[axis];
        g.pad_end = w.pads[axis + w.spatial_rank()];
      }
      KILN_ASSIGN_OR_RETURN(int64_t padded, require_fits(checked_add(input, g.pad_begin), axis, "the padded input size"));
      KILN_ASSIGN_OR_RETURN(padded, require_fits(checked_add(padded, g.pad_end), axis, "the padded input size"));
      if (window > padded)
        return invalid_argument(axis_text(axis) + ": the window (" + std::to_string(window) +
                                " after dilation) is larger than the padded input (" + std::to_string(padded) + ")");
      const int64_t span = padded - window;
      g.output = (w.ceil_mode ? ceil_div(span, g.stride) : span / g.stride) + 1;
      // A last window that would start inside the end padding covers no input: drop it.
      if (w.ceil_mode) {
        const std::optional<int64_t> last_start = checked_mul(g.output - 1, g.stride);
        if (!last_start || *last_start >= input + g.pad_begin) --g.output;  // input + pad_begin <= padded
      }
      return g;
    }
  }
  return internal_error("unhandled auto_pad mode");
}

Result<TransposeAttrs> decode_transpose(const Attributes& attrs, size_t spatial_rank) {
  TransposeAttrs t;
  KILN_ASSIGN_OR_RETURN(t.output_padding, per_axis_list(attrs, "output_padding", spatial_rank, 0, 0));
  if (attrs.has("output_shape")) {
    std::vector<int64_t> shape = attrs.get_ints("output_shape");
    // Some exporters write the full N, C, spatial... shape; keep only the spatial part.
    if (shape.size() == spatial_rank + 2) shape.erase(shape.begin(), shape.begin() + 2);
    if (shape.size() != spatial_rank)
      return invalid_argument("attribute 'output_shape' has " + std::to_string(shape.size()) +
                              " entries, expected " + std::to_string(spatial_rank));
    for (int64_t v : shape)
      if (v < 1) return invalid_argument("attribute 'output_shape' has non-positive entry " + std::to_string(v));
    t.output_shape = std::move(shape);
  }
  return t;
}

Result<AxisGeometry> transpose_axis(const WindowAttrs& w, const TransposeAttrs& t, size_t axis, int64_t input) {
  AxisGeometry g;
  g.input = input;
  g.kernel = w.kernel[axis];
  g.stride = w.strides[axis];
  g.dilation = w.dilations[axis];
  if (input < 0) return invalid_argument(axis_text(axis) + " has negative size " + std::to_string(input));
  // The size the transposed window covers before any padding is removed.
  KILN_ASSIGN_OR_RETURN(int64_t full, require_fits(checked_mul(g.stride, input - 1), axis, "the transposed extent"));
  KILN_ASSIGN_OR_RETURN(full, require_fits(checked_add(full, t.output_padding[axis]), axis, "the transposed extent"));
  KILN_ASSIGN_OR_RETURN(full, require_fits(checked_add(full, w.effective_kernel(axis)), axis, "the transposed extent"));
  const bool same = w.auto_pad == AutoPad::kSameUpper || w.auto_pad == AutoPad::kSameLower;
  if (!t.output_shape.empty() || same) {
    if (!t.output_shape.empty()) {
      g.output = t.output_shape[axis];
    } else {
      KILN_ASSIGN_OR_RETURN(g.output, require_fits(checked_mul(input, g.stride), axis, "the output size"));
    }
    // Negative when the requested output is larger than the window covers: the output then
    // extends past the covered positions (those elements receive only the bias).
    KILN_ASSIGN_OR_RETURN(const int64_t total, require_fits(checked_sub(full, g.output), axis, "the padding total"));
    // ONNX: SAME_UPPER puts the smaller half at the start, every other mode at the end.
    split_same_padding(w.auto_pad == AutoPad::kSameUpper ? AutoPad::kSameUpper : AutoPad::kSameLower, total, g);
    return g;
  }
  if (w.auto_pad == AutoPad::kNotSet) {
    g.pad_begin = w.pads[axis];
    g.pad_end = w.pads[axis + w.spatial_rank()];
  }
  KILN_ASSIGN_OR_RETURN(g.output, require_fits(checked_sub(full, g.pad_begin), axis, "the output size"));
  KILN_ASSIGN_OR_RETURN(g.output, require_fits(checked_sub(g.output, g.pad_end), axis, "the output size"));
  if (g.output < 1)
    return invalid_argument(axis_text(axis) + ": pads remove the whole output (size " + std::to_string(g.output) + ")");
  return g;
}

}  // namespace kiln
