// Pad's attribute/input decoding and output-size arithmetic, shared by its schema and its
// reference kernel so that both agree on the output shape and on what is rejected.
#pragma once

#include <cstdint>
#include <vector>

#include "core/attributes.h"
#include "kiln/status.h"

namespace kiln {

enum class PadMode { kConstant, kReflect, kEdge };

Result<PadMode> decode_pad_mode(const Attributes& attrs);

// Per-axis begin/end amounts for a rank-`rank` tensor (negative values crop).
struct PadAmounts {
  std::vector<int64_t> begin;
  std::vector<int64_t> end;
};

// `pads` is the Pad input (begins then ends for each listed axis); `axes` the optional axes input
// (nullptr: all axes in order). Negative axes count from the end.
Result<PadAmounts> resolve_pad_amounts(const std::vector<int64_t>& pads, const std::vector<int64_t>* axes,
                                       size_t rank);

// Output size of `axis` for `input` elements; errors when cropping removes more than the axis
// holds or when reflect/edge padding has no source elements to copy.
Result<int64_t> padded_axis_size(PadMode mode, size_t axis, int64_t input, int64_t begin, int64_t end);

}  // namespace kiln
