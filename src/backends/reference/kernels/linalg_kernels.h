// Private to the linalg reference kernels (linalg, matmul, gemm, einsum, softmax, resize,
// space_depth): per-file registration and the accumulator conventions they share.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "backends/reference/kernel.h"
#include "core/dtype_dispatch.h"

namespace kiln::reference::linalg {

void register_matmul_kernels(KernelTable& table);  // MatMul, MatMulInteger
void register_gemm_kernel(KernelTable& table);
void register_einsum_kernel(KernelTable& table);
void register_softmax_kernels(KernelTable& table);  // Softmax, LogSoftmax, Hardmax
void register_resize_kernel(KernelTable& table);
void register_space_depth_kernels(KernelTable& table);  // DepthToSpace, SpaceToDepth

// Products accumulate in double for floating types and in wrapping 64-bit unsigned arithmetic
// for integers (exact modulo 2^64, and free of signed-overflow undefined behaviour).
template <class T>
using AccumulatorOf = std::conditional_t<std::is_integral_v<T>, uint64_t, double>;

template <class T>
AccumulatorOf<T> to_accumulator(T v) {
  if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
    return static_cast<uint64_t>(static_cast<int64_t>(v));
  } else if constexpr (std::is_integral_v<T>) {
    return static_cast<uint64_t>(v);
  } else {
    return convert_element<double>(v);
  }
}

// Integers wrap to T's width (two's complement, as C++20 defines narrowing conversions).
template <class T>
T from_accumulator(AccumulatorOf<T> v) {
  if constexpr (std::is_same_v<T, bool>) {
    return v != 0;
  } else if constexpr (std::is_integral_v<T>) {
    return static_cast<T>(v);
  } else {
    return convert_element<T>(v);
  }
}

// A double converted to T; integers round to nearest and saturate (interpolation may overshoot
// the input range, and an out-of-range float-to-int conversion is undefined behaviour).
template <class T>
T saturate_from_double(double v) {
  if constexpr (std::is_same_v<T, bool>) {
    return v != 0.0;
  } else if constexpr (std::is_integral_v<T>) {
    if (std::isnan(v)) return T(0);
    const double r = std::nearbyint(v);
    if (r <= static_cast<double>(std::numeric_limits<T>::lowest())) return std::numeric_limits<T>::lowest();
    if (r >= static_cast<double>(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
    return static_cast<T>(r);
  } else {
    return convert_element<T>(v);
  }
}

inline bool is_float_dtype(DType d) {
  return d == DType::kFloat32 || d == DType::kFloat16 || d == DType::kBFloat16 || d == DType::kFloat64;
}

// The dtypes of MatMul and Gemm: floats, and 32/64-bit integers.
inline bool is_matmul_dtype(DType d) {
  return is_float_dtype(d) || d == DType::kInt32 || d == DType::kInt64 || d == DType::kUInt32 ||
         d == DType::kUInt64;
}

}  // namespace kiln::reference::linalg
