// Small helpers shared by reference kernels. Kept deliberately simple: reference kernels favour
// obviousness over speed, and compute floating-point math in double.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/dtype_dispatch.h"
#include "kiln/status.h"
#include "kiln/tensor.h"

namespace kiln::reference {

// Every element of a numeric tensor as double (int64 beyond 2^53 loses precision; kernels that
// move int64 data without arithmetic should copy bytes instead).
std::vector<double> to_doubles(const Tensor& t);
// A tensor of `dtype` built from doubles, converting each element (saturating for narrow floats,
// truncating toward zero for integers, != 0 for bool).
Tensor from_doubles(DType dtype, const Shape& shape, const std::vector<double>& values);

// An integer list from a 1-D (or scalar) int32/int64 tensor: axes, shapes, pads, sizes.
Result<std::vector<int64_t>> to_int64s(const Tensor& t, const std::string& what);

// Calls f(index) for every multi-index of `shape` in row-major order.
template <class F>
void for_each_index(const Shape& shape, F&& f) {
  const size_t rank = shape.rank();
  if (shape.numel() == 0) return;
  std::vector<int64_t> index(rank, 0);
  while (true) {
    f(static_cast<const std::vector<int64_t>&>(index));
    size_t d = rank;
    while (d > 0) {
      --d;
      if (++index[d] < shape[d]) break;
      index[d] = 0;
      if (d == 0) return;
    }
    if (rank == 0) return;
  }
}

// Offset of `index` under `strides`.
inline int64_t offset_of(const std::vector<int64_t>& index, const std::vector<int64_t>& strides) {
  int64_t off = 0;
  for (size_t i = 0; i < index.size(); ++i) off += index[i] * strides[i];
  return off;
}

// Error for a dtype the kernel does not handle, naming it.
Status unsupported_dtype(const char* op, DType dtype);

}  // namespace kiln::reference
