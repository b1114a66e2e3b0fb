// Maps a runtime DType to its C++ storage type. visit_dtype(dt, f) calls f(T{}) with the
// storage type of dt, so typed code is written once as a generic lambda:
//   visit_dtype(t.dtype(), [&](auto tag) { using T = decltype(tag); ... });
// BYTES has no numeric storage type and is rejected by the callers that need numbers.
#pragma once

#include <cstdint>
#include <type_traits>

#include "kiln/dtype.h"
#include "kiln/float_types.h"

namespace kiln {

template <DType D> struct DTypeStorage;
template <> struct DTypeStorage<DType::kFloat32> { using type = float; };
template <> struct DTypeStorage<DType::kFloat16> { using type = Float16; };
template <> struct DTypeStorage<DType::kBFloat16> { using type = BFloat16; };
template <> struct DTypeStorage<DType::kFloat8E4M3> { using type = Float8E4M3; };
template <> struct DTypeStorage<DType::kFloat64> { using type = double; };
template <> struct DTypeStorage<DType::kInt8> { using type = int8_t; };
template <> struct DTypeStorage<DType::kUInt8> { using type = uint8_t; };
template <> struct DTypeStorage<DType::kInt16> { using type = int16_t; };
template <> struct DTypeStorage<DType::kUInt16> { using type = uint16_t; };
template <> struct DTypeStorage<DType::kInt32> { using type = int32_t; };
template <> struct DTypeStorage<DType::kUInt32> { using type = uint32_t; };
template <> struct DTypeStorage<DType::kInt64> { using type = int64_t; };
template <> struct DTypeStorage<DType::kUInt64> { using type = uint64_t; };
template <> struct DTypeStorage<DType::kBool> { using type = bool; };

template <class T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::kFloat32; }
template <> constexpr DType dtype_of<Float16>() { return DType::kFloat16; }
template <> constexpr DType dtype_of<BFloat16>() { return DType::kBFloat16; }
template <> constexpr DType dtype_of<Float8E4M3>() { return DType::kFloat8E4M3; }
template <> constexpr DType dtype_of<double>() { return DType::kFloat64; }
template <> constexpr DType dtype_of<int8_t>() { return DType::kInt8; }
template <> constexpr DType dtype_of<uint8_t>() { return DType::kUInt8; }
template <> constexpr DType dtype_of<int16_t>() { return DType::kInt16; }
template <> constexpr DType dtype_of<uint16_t>() { return DType::kUInt16; }
template <> constexpr DType dtype_of<int32_t>() { return DType::kInt32; }
template <> constexpr DType dtype_of<uint32_t>() { return DType::kUInt32; }
template <> constexpr DType dtype_of<int64_t>() { return DType::kInt64; }
template <> constexpr DType dtype_of<uint64_t>() { return DType::kUInt64; }
template <> constexpr DType dtype_of<bool>() { return DType::kBool; }

template <class T>
inline constexpr bool kIsNarrowFloat =
    std::is_same_v<T, Float16> || std::is_same_v<T, BFloat16> || std::is_same_v<T, Float8E4M3>;

// Element conversion through double (exact for every type except 64-bit integers > 2^53, which
// convert directly).
template <class To, class From>
To convert_element(From v) {
  if constexpr (std::is_same_v<To, From>) {
    return v;
  } else if constexpr (kIsNarrowFloat<From>) {
    return convert_element<To>(static_cast<float>(v));
  } else if constexpr (kIsNarrowFloat<To>) {
    return To(static_cast<float>(v));
  } else if constexpr (std::is_same_v<To, bool>) {
    return v != From(0);
  } else {
    return static_cast<To>(v);
  }
}

// Calls f(T{}) for every numeric dtype; returns false for BYTES/undefined.
template <class F>
bool visit_dtype(DType dtype, F&& f) {
  switch (dtype) {
    case DType::kFloat32: f(float{}); return true;
    case DType::kFloat16: f(Float16{}); return true;
    case DType::kBFloat16: f(BFloat16{}); return true;
    case DType::kFloat8E4M3: f(Float8E4M3{}); return true;
    case DType::kFloat64: f(double{}); return true;
    case DType::kInt8: f(int8_t{}); return true;
    case DType::kUInt8: f(uint8_t{}); return true;
    case DType::kInt16: f(int16_t{}); return true;
    case DType::kUInt16: f(uint16_t{}); return true;
    case DType::kInt32: f(int32_t{}); return true;
    case DType::kUInt32: f(uint32_t{}); return true;
    case DType::kInt64: f(int64_t{}); return true;
    case DType::kUInt64: f(uint64_t{}); return true;
    case DType::kBool: f(bool{}); return true;
    default: return false;
  }
}

}  // namespace kiln
