// Two-operand broadcasting reduced to its simplest loop nest: adjacent dims that both operands
// read the same way are merged, so `out = a op b` becomes rows of one inner loop whose operands
// are each either contiguous (stride 1) or a repeated scalar (stride 0).
#pragma once

#include <cstdint>
#include <vector>

#include "kiln/shape.h"

namespace kiln::backends::cpu {

struct BroadcastPlan {
  // Merged output dims (outermost first) and each operand's strides in elements (0 = broadcast).
  std::vector<int64_t> dims, a_strides, b_strides;
  int64_t inner() const { return dims.empty() ? 1 : dims.back(); }
  int64_t rows() const;
  // Element offsets of row `row` (all dims but the last) in a and b.
  void row_offsets(int64_t row, int64_t& a_offset, int64_t& b_offset) const;
};

// a_shape and b_shape must broadcast to out_shape.
BroadcastPlan plan_broadcast(const Shape& a_shape, const Shape& b_shape, const Shape& out_shape);

}  // namespace kiln::backends::cpu
