#include "core/broadcast.h"

#include <algorithm>

namespace kiln {

Result<Shape> broadcast_shapes(const Shape& a, const Shape& b) {
  size_t rank = std::max(a.rank(), b.rank());
  std::vector<int64_t> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.rank() ? 1 : a[i - (rank - a.rank())];
    int64_t db = i < rank - b.rank() ? 1 : b[i - (rank - b.rank())];
    if (da == db) out[i] = da;
    else if (da == 1) out[i] = db;
    else if (db == 1) out[i] = da;
    else if (da < 0) out[i] = db;
    else if (db < 0) out[i] = da;
    else
      return invalid_argument("shapes " + a.to_string() + " and " + b.to_string() +
                              " cannot be broadcast together");
  }
  return Shape(std::move(out));
}

std::vector<int64_t> broadcast_strides(const Shape& input, const Shape& output) {
  std::vector<int64_t> in_strides = contiguous_strides(input);
  std::vector<int64_t> strides(output.rank(), 0);
  size_t offset = output.rank() - input.rank();
  for (size_t i = 0; i < input.rank(); ++i)
    strides[offset + i] = input[i] == 1 && output[offset + i] != 1 ? 0 : in_strides[i];
  return strides;
}

Result<int64_t> normalize_axis(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= std::max<int64_t>(rank, 1))
    return invalid_argument("axis " + std::to_string(axis) + " is out of range for rank " +
                            std::to_string(rank));
  return axis < 0 ? axis + rank : axis;
}

}  // namespace kiln
