// An output walked as rows of its last dim, each operand read through its own element strides
// (0 for a broadcast dim, a multiple for a sliced one). Broadcasting (Expand, Where, And/Or) and
// Slice all reduce to this loop nest; the per-row offset costs one division per dim.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "kiln/shape.h"

namespace kiln::backends::cpu {

template <size_t kOperands>
struct StridedRows {
  std::vector<int64_t> dims;  // output dims, outermost first; at least one
  std::array<std::vector<int64_t>, kOperands> strides;
  std::array<int64_t, kOperands> base{};  // first element each operand reads

  int64_t inner() const { return dims.back(); }
  int64_t rows() const {
    int64_t r = 1;
    for (size_t i = 0; i + 1 < dims.size(); ++i) r *= dims[i];
    return r;
  }
  int64_t inner_stride(size_t operand) const { return strides[operand].back(); }
  std::array<int64_t, kOperands> row_offsets(int64_t row) const {
    std::array<int64_t, kOperands> offsets = base;
    for (size_t d = dims.size() - 1; d-- > 0;) {
      const int64_t index = row % dims[d];
      row /= dims[d];
      for (size_t k = 0; k < kOperands; ++k) offsets[k] += index * strides[k][d];
    }
    return offsets;
  }
};

// Rows for an output of `out` whose operand k has strides[k] (one per output dim); a rank-0
// output becomes one row of one element.
template <size_t kOperands>
StridedRows<kOperands> make_strided_rows(const Shape& out, std::array<std::vector<int64_t>, kOperands> strides) {
  StridedRows<kOperands> rows;
  rows.dims = out.dims();
  rows.strides = std::move(strides);
  if (rows.dims.empty()) {
    rows.dims = {1};
    for (auto& s : rows.strides) s = {0};
  }
  return rows;
}

}  // namespace kiln::backends::cpu
