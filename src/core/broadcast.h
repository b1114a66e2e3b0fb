// Numpy-style (multidirectional) broadcasting, shared by shape inference and kernels.
#pragma once

#include <cstdint>
#include <vector>

#include "kiln/shape.h"
#include "kiln/status.h"

namespace kiln {

// The broadcast shape of a and b, or an error naming both shapes. Dynamic dims (-1) stay
// dynamic unless the other side fixes them.
Result<Shape> broadcast_shapes(const Shape& a, const Shape& b);

// Strides to read `input` as if it had `output`'s shape: 0 along broadcast dims. `input` must
// broadcast to `output`.
std::vector<int64_t> broadcast_strides(const Shape& input, const Shape& output);

// Normalizes a possibly negative axis into [0, rank); error names the op for context.
Result<int64_t> normalize_axis(int64_t axis, int64_t rank);

}  // namespace kiln
