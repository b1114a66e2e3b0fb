// Private to the reference kernels of the reduce family (kernels/reduce.cpp, argminmax.cpp,
// topk.cpp, cumsum.cpp): the kernel entry points that reduce.cpp registers and the helpers
// they share.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>

#include "backends/reference/kernel.h"
#include "backends/reference/kernel_util.h"

namespace kiln::reference::reduce_detail {

Status arg_max_kernel(KernelContext& ctx);
Status arg_min_kernel(KernelContext& ctx);
Status topk_kernel(KernelContext& ctx);
Status cumsum_kernel(KernelContext& ctx);

// A shape seen as [outer, extent, inner] around one axis; element (o, k, i) lives at
// offset(o, k, i) in row-major order.
struct AxisSplit {
  int64_t outer = 1;
  int64_t extent = 1;
  int64_t inner = 1;

  int64_t offset(int64_t o, int64_t k, int64_t i) const { return (o * extent + k) * inner + i; }
};

// Precondition: 0 <= axis < shape.rank().
AxisSplit split_at(const Shape& shape, int64_t axis);

// `axis` normalized into [0, rank), or an error naming the op and `what`.
Result<int64_t> normalize_kernel_axis(const std::string& op, int64_t axis, size_t rank, const std::string& what);

// Whether `dtype` is one the family's kernels compute on (numbers other than bool and fp8).
bool is_reducible_dtype(DType dtype);

// Integers accumulate in 64 bits with two's-complement wrap-around (defined behaviour, and
// exact for every sum that fits); unsigned types in uint64, signed in int64.
template <class T>
using IntAccumulator = std::conditional_t<std::is_signed_v<T>, int64_t, uint64_t>;

template <class Acc>
Acc wrapping_add(Acc a, Acc b) {
  return static_cast<Acc>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}

template <class Acc>
Acc wrapping_mul(Acc a, Acc b) {
  return static_cast<Acc>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b));
}

// Ordering key of an element: integers compare as themselves (exact even beyond 2^53), floats
// as double with NaN ordered above every number so that sorting stays a strict weak order.
template <class T>
struct OrderKey {
  using Number = std::conditional_t<std::is_integral_v<T>, T, double>;
  Number value{};
  bool is_nan = false;

  static OrderKey of(T element) {
    OrderKey key;
    if constexpr (std::is_integral_v<T>) {
      key.value = element;
    } else {
      key.value = convert_element<double>(element);
      key.is_nan = std::isnan(key.value);
    }
    return key;
  }
  friend bool operator<(const OrderKey& a, const OrderKey& b) {
    if (a.is_nan || b.is_nan) return !a.is_nan && b.is_nan;
    return a.value < b.value;
  }
  friend bool operator==(const OrderKey& a, const OrderKey& b) {
    return a.is_nan == b.is_nan && (a.is_nan || a.value == b.value);
  }
};

}  // namespace kiln::reference::reduce_detail
