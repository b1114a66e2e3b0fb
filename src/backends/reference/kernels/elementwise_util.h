// Private helpers of the elementwise reference kernels: dtype groups, broadcast walking with a
// flat fast path, and conversions that never hit undefined behaviour (NaN or out-of-range
// floats into integers saturate; integer arithmetic wraps).
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "backends/reference/kernel.h"
#include "backends/reference/kernel_util.h"
#include "core/broadcast.h"
#include "core/dtype_dispatch.h"

namespace kiln::reference::elementwise {

// Element types computed in double (everything floating point).
template <class T>
inline constexpr bool kIsFloatLike = std::is_floating_point_v<T> || kIsNarrowFloat<T>;
template <class T>
inline constexpr bool kIsInt = std::is_integral_v<T> && !std::is_same_v<T, bool>;

// Which dtypes an op accepts (bit set over DType).
using DTypeSet = uint32_t;
constexpr DTypeSet bit(DType d) { return DTypeSet{1} << static_cast<unsigned>(d); }
inline constexpr DTypeSet kFloats =
    bit(DType::kFloat32) | bit(DType::kFloat16) | bit(DType::kBFloat16) | bit(DType::kFloat64);
inline constexpr DTypeSet kSignedInts = bit(DType::kInt8) | bit(DType::kInt16) | bit(DType::kInt32) | bit(DType::kInt64);
inline constexpr DTypeSet kUnsignedInts =
    bit(DType::kUInt8) | bit(DType::kUInt16) | bit(DType::kUInt32) | bit(DType::kUInt64);
inline constexpr DTypeSet kNumeric = kFloats | kSignedInts | kUnsignedInts;
inline constexpr DTypeSet kBoolOnly = bit(DType::kBool);
inline constexpr DTypeSet kAllTypes = kNumeric | bit(DType::kBool) | bit(DType::kFloat8E4M3) | bit(DType::kBytes);

// OK when `dtype` is in `allowed`, else UNIMPLEMENTED naming the op, the input and the dtype.
Status check_dtype(OpKind op, size_t input, DType dtype, DTypeSet allowed);
// Required input `i` (error when absent).
Result<const Tensor*> required_input(const KernelContext& ctx, size_t i);
// Error unless inputs a and b have the same dtype.
Status check_same_dtype(OpKind op, const Tensor& a, size_t ia, const Tensor& b, size_t ib);
// Broadcast shape of all present inputs in [first, last); error names the op and the shapes.
Result<Shape> broadcast_all(const KernelContext& ctx, size_t first, size_t last);

// double -> T without undefined behaviour: floats round to the target, integers truncate toward
// zero and saturate (NaN -> 0), bool is != 0.
template <class T>
T from_double(double v) {
  if constexpr (std::is_same_v<T, bool>) {
    return v != 0.0;
  } else if constexpr (kIsNarrowFloat<T>) {
    return T(static_cast<float>(v));
  } else if constexpr (std::is_floating_point_v<T>) {
    return static_cast<T>(v);
  } else {
    if (std::isnan(v)) return T{0};
    double t = std::trunc(v);
    if (t <= static_cast<double>(std::numeric_limits<T>::min())) return std::numeric_limits<T>::min();
    // (double)max may round up to 2^N, so compare with >= and saturate.
    if (t >= static_cast<double>(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
    return static_cast<T>(t);
  }
}

template <class T>
double to_double(T v) {
  return convert_element<double>(v);
}

// Wrapping integer arithmetic (signed overflow is UB in C++; ONNX leaves it unspecified and
// every runtime wraps).
template <class T>
T wrap_add(T a, T b) {
  using U = std::make_unsigned_t<T>;
  return static_cast<T>(static_cast<U>(static_cast<U>(a) + static_cast<U>(b)));
}
template <class T>
T wrap_sub(T a, T b) {
  using U = std::make_unsigned_t<T>;
  return static_cast<T>(static_cast<U>(static_cast<U>(a) - static_cast<U>(b)));
}
template <class T>
T wrap_mul(T a, T b) {
  using U = std::make_unsigned_t<T>;
  // Promote small unsigned types past int so the product cannot overflow a signed int.
  using Wide = std::conditional_t<(sizeof(U) < sizeof(unsigned)), unsigned, U>;
  return static_cast<T>(static_cast<U>(static_cast<Wide>(static_cast<U>(a)) * static_cast<Wide>(static_cast<U>(b))));
}
template <class T>
T wrap_neg(T a) {
  return wrap_sub(T{0}, a);
}

// Walks the broadcast of N inputs to `out`, calling f(out_index, offsets) with each input's
// element offset. Inputs that already have the output shape take a flat loop; otherwise the
// innermost dimension runs as a strided loop under an odometer over the outer dimensions.
template <size_t N, class F>
void walk_broadcast(const Shape& out, const std::array<const Shape*, N>& inputs, F&& f) {
  const int64_t total = out.numel();
  if (total == 0) return;
  bool all_same = true;
  for (const Shape* s : inputs) all_same = all_same && *s == out;
  std::array<int64_t, N> offsets{};
  if (all_same) {
    for (int64_t i = 0; i < total; ++i) {
      offsets.fill(i);
      f(i, offsets);
    }
    return;
  }
  const size_t rank = out.rank();
  std::array<std::vector<int64_t>, N> strides;
  for (size_t k = 0; k < N; ++k) strides[k] = broadcast_strides(*inputs[k], out);
  if (rank == 0) {
    f(0, offsets);
    return;
  }
  const int64_t inner = out[rank - 1];
  std::array<int64_t, N> inner_stride{};
  for (size_t k = 0; k < N; ++k) inner_stride[k] = strides[k][rank - 1];
  std::vector<int64_t> outer(rank - 1, 0);
  std::array<int64_t, N> base{};
  for (int64_t o = 0; o < total; o += inner) {
    for (int64_t j = 0; j < inner; ++j) {
      for (size_t k = 0; k < N; ++k) offsets[k] = base[k] + j * inner_stride[k];
      f(o + j, offsets);
    }
    // Advance the odometer over the outer dims, keeping each input's base offset in step.
    for (size_t d = rank - 1; d-- > 0;) {
      for (size_t k = 0; k < N; ++k) base[k] += strides[k][d];
      if (++outer[d] < out[d]) break;
      for (size_t k = 0; k < N; ++k) base[k] -= strides[k][d] * out[d];
      outer[d] = 0;
    }
  }
}

// out[i] = f(a[...], b[...]) over the broadcast of a and b. TO is out's storage type.
template <class TA, class TB, class TO, class F>
void broadcast_binary(const Tensor& a, const Tensor& b, Tensor& out, F&& f) {
  const TA* pa = a.data<TA>();
  const TB* pb = b.data<TB>();
  TO* po = out.data<TO>();
  walk_broadcast<2>(out.shape(), {&a.shape(), &b.shape()},
                    [&](int64_t i, const std::array<int64_t, 2>& off) { po[i] = f(pa[off[0]], pb[off[1]]); });
}

// out[i] = f(in[i]).
template <class TI, class TO, class F>
void map_unary(const Tensor& in, Tensor& out, F&& f) {
  const TI* pi = in.data<TI>();
  TO* po = out.data<TO>();
  const int64_t n = in.numel();
  for (int64_t i = 0; i < n; ++i) po[i] = f(pi[i]);
}

// Output 0 = f(x) for a float-only unary op; f maps double -> double.
template <class F>
Status float_unary(KernelContext& ctx, F&& f) {
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0));
  KILN_RETURN_IF_ERROR(check_dtype(ctx.op, 0, x->dtype(), kFloats));
  Tensor out(x->dtype(), x->shape());
  visit_dtype(x->dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (kIsFloatLike<T>)
      map_unary<T, T>(*x, out, [&](T v) { return from_double<T>(f(to_double(v))); });
  });
  ctx.outputs[0] = std::move(out);
  return {};
}

// Output 0 = op(x) for a unary op defined on floats and integers: float_fn maps double ->
// double, int_fn is a generic callable T -> T used for integer dtypes.
template <class FloatFn, class IntFn>
Status numeric_unary(KernelContext& ctx, DTypeSet allowed, FloatFn&& float_fn, IntFn&& int_fn) {
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0));
  KILN_RETURN_IF_ERROR(check_dtype(ctx.op, 0, x->dtype(), allowed));
  Tensor out(x->dtype(), x->shape());
  visit_dtype(x->dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (kIsFloatLike<T>)
      map_unary<T, T>(*x, out, [&](T v) { return from_double<T>(float_fn(to_double(v))); });
    else if constexpr (kIsInt<T>)
      map_unary<T, T>(*x, out, [&](T v) { return static_cast<T>(int_fn(v)); });
  });
  ctx.outputs[0] = std::move(out);
  return {};
}

// Per-family registration, each in its own file.
void register_unary_math_kernels(KernelTable& table);
void register_activation_kernels(KernelTable& table);
void register_binary_kernels(KernelTable& table);
void register_variadic_kernels(KernelTable& table);
void register_cast_kernels(KernelTable& table);

}  // namespace kiln::reference::elementwise
