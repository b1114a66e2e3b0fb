// Storage types for the narrow floating-point formats. They convert to and from float with
// round-to-nearest-even; arithmetic is done by converting to float.
#pragma once

#include <cstdint>

namespace kiln {

struct Float16 {
  uint16_t bits = 0;
  Float16() = default;
  explicit Float16(float value);
  static Float16 from_bits(uint16_t b) { Float16 h; h.bits = b; return h; }
  explicit operator float() const;
};

struct BFloat16 {
  uint16_t bits = 0;
  BFloat16() = default;
  explicit BFloat16(float value);
  static BFloat16 from_bits(uint16_t b) { BFloat16 h; h.bits = b; return h; }
  explicit operator float() const;
};

// OCP FP8 E4M3 "fn" variant (no infinities, NaN = S.1111.111, max 448), saturating conversion.
struct Float8E4M3 {
  uint8_t bits = 0;
  Float8E4M3() = default;
  explicit Float8E4M3(float value);
  static Float8E4M3 from_bits(uint8_t b) { Float8E4M3 h; h.bits = b; return h; }
  explicit operator float() const;
};

}  // namespace kiln
