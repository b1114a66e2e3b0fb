// Concat and Split both move [outer, piece, inner] blocks between one tensor and several along
// one axis; this is their shared geometry.
#pragma once

#include <cstdint>
#include <vector>

#include "backends/cuda/kernels/tensor_ops.h"
#include "kiln/shape.h"
#include "kiln/status.h"

namespace kiln::cuda {

// The copy between piece `piece_axis` elements wide (at `offset` along the axis) and the whole
// tensor `whole` along `axis`. from_whole: Split (whole -> piece), else Concat.
inline StridedCopy piece_copy(const Shape& whole, size_t axis, int64_t offset, int64_t piece_axis, bool from_whole) {
  int64_t outer = 1, inner = 1;
  for (size_t d = 0; d < axis; ++d) outer *= whole[d];
  for (size_t d = axis + 1; d < whole.rank(); ++d) inner *= whole[d];
  const int64_t whole_row = whole[axis] * inner, piece_row = piece_axis * inner;
  StridedCopy c;
  c.rank = 2;
  c.dims[0] = outer;
  c.dims[1] = piece_row;
  c.src_strides[1] = c.dst_strides[1] = 1;
  if (from_whole) {
    c.src_strides[0] = whole_row;
    c.dst_strides[0] = piece_row;
    c.src_offset = offset * inner;
  } else {
    c.src_strides[0] = piece_row;
    c.dst_strides[0] = whole_row;
    c.dst_offset = offset * inner;
  }
  return c;
}

}  // namespace kiln::cuda
