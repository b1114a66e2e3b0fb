// Overflow-checked int64 arithmetic for dims and element counts. Dims come from model data
// (constant tensors, declared shapes, attributes), so their products and sums may not fit in
// int64; these return nullopt instead of hitting undefined behaviour.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

namespace kiln {

inline std::optional<int64_t> checked_mul(int64_t a, int64_t b) {
  int64_t out = 0;
  if (__builtin_mul_overflow(a, b, &out)) return std::nullopt;
  return out;
}

inline std::optional<int64_t> checked_add(int64_t a, int64_t b) {
  int64_t out = 0;
  if (__builtin_add_overflow(a, b, &out)) return std::nullopt;
  return out;
}

inline std::optional<int64_t> checked_sub(int64_t a, int64_t b) {
  int64_t out = 0;
  if (__builtin_sub_overflow(a, b, &out)) return std::nullopt;
  return out;
}

// The product of `values` (1 when empty), or nullopt when it overflows. A zero anywhere makes
// the product 0 even if the dims before it would overflow.
inline std::optional<int64_t> checked_product(std::span<const int64_t> values) {
  for (int64_t v : values)
    if (v == 0) return 0;
  int64_t product = 1;
  for (int64_t v : values)
    if (__builtin_mul_overflow(product, v, &product)) return std::nullopt;
  return product;
}

}  // namespace kiln
