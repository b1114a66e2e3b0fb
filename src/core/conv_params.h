// Sliding-window geometry shared by Conv, ConvTranspose and the pooling ops: attribute decoding
// and the output-size arithmetic. Shape inference (src/ir/ops/nn_*.cpp) and the reference kernels
// both call these functions, so an inferred output size and a computed one can never disagree.
//
// Conventions follow ONNX opset 17: `pads` lists every axis's begin padding, then every axis's end
// padding; auto_pad SAME_* makes output = ceil(input / stride) (forward) or input * stride
// (transpose) and splits the total padding, the odd element going to the end (SAME_UPPER) or the
// beginning (SAME_LOWER).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/attributes.h"
#include "kiln/status.h"

namespace kiln {

enum class AutoPad { kNotSet, kSameUpper, kSameLower, kValid };

// Decoded window attributes for `kernel.size()` spatial axes.
struct WindowAttrs {
  AutoPad auto_pad = AutoPad::kNotSet;
  std::vector<int64_t> kernel;
  std::vector<int64_t> strides;
  std::vector<int64_t> dilations;
  std::vector<int64_t> pads;  // 2 * spatial rank: begins, then ends
  bool ceil_mode = false;

  size_t spatial_rank() const { return kernel.size(); }
  // Extent of the dilated window along `axis`.
  int64_t effective_kernel(size_t axis) const { return (kernel[axis] - 1) * dilations[axis] + 1; }
};

// The resolved geometry of one spatial axis for a concrete input size.
struct AxisGeometry {
  int64_t input = 0;
  int64_t output = 0;
  int64_t pad_begin = 0;
  int64_t pad_end = 0;
  int64_t kernel = 1;
  int64_t stride = 1;
  int64_t dilation = 1;
};

// ConvTranspose-only attributes.
struct TransposeAttrs {
  std::vector<int64_t> output_padding;  // per spatial axis
  std::vector<int64_t> output_shape;    // per spatial axis; empty when the attribute is absent
};

// Decodes auto_pad, strides, dilations, pads (and ceil_mode when `allow_ceil_mode`) for the
// window `kernel`. Errors name the attribute and what was expected.
Result<WindowAttrs> decode_window(const Attributes& attrs, std::vector<int64_t> kernel, bool allow_ceil_mode);

// The kernel_shape attribute for `spatial_rank` axes. When `weight_kernel` is non-empty (Conv,
// ConvTranspose) the attribute is optional and must agree with it.
Result<std::vector<int64_t>> decode_kernel_shape(const Attributes& attrs, size_t spatial_rank,
                                                 const std::vector<int64_t>& weight_kernel);

// Forward window (Conv, pooling): output size and effective pads of `axis` for `input` elements.
// Errors when the dilated window does not fit in the padded input.
Result<AxisGeometry> forward_axis(const WindowAttrs& window, size_t axis, int64_t input);

Result<TransposeAttrs> decode_transpose(const Attributes& attrs, size_t spatial_rank);
// Transposed window (ConvTranspose): output size and effective pads of `axis`. With output_shape
// (or SAME_*) asking for more than the transposed window covers, a pad is negative: the output
// extends beyond the covered positions.
Result<AxisGeometry> transpose_axis(const WindowAttrs& window, const TransposeAttrs& transpose, size_t axis,
                                    int64_t input);

}  // namespace kiln
