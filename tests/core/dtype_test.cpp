#include <gtest/gtest.h>

#include <cmath>

#include "core/dtype_dispatch.h"
#include "kiln/dtype.h"
#include "kiln/float_types.h"

namespace kiln {
namespace {

TEST(DType, NamesRoundTrip) {
  for (size_t i = 1; i < static_cast<size_t>(DType::kCount); ++i) {
    auto dt = static_cast<DType>(i);
    auto parsed = dtype_from_name(dtype_name(dt));
    ASSERT_TRUE(parsed.has_value()) << dtype_name(dt);
    EXPECT_EQ(*parsed, dt);
  }
  EXPECT_EQ(dtype_from_name("FP16"), DType::kFloat16);
  EXPECT_EQ(dtype_from_name("TYPE_FP32"), DType::kFloat32);
  EXPECT_FALSE(dtype_from_name("float128").has_value());
}

TEST(DType, SizesMatchStorageTypes) {
  for (size_t i = 1; i < static_cast<size_t>(DType::kCount); ++i) {
    auto dt = static_cast<DType>(i);
    visit_dtype(dt, [&](auto tag) { EXPECT_EQ(sizeof(tag), dtype_size(dt)) << dtype_name(dt); });
  }
}

TEST(Float16, RoundTripsEveryFiniteValue) {
  for (uint32_t bits = 0; bits < 0x10000; ++bits) {
    Float16 h = Float16::from_bits(static_cast<uint16_t>(bits));
    float f = static_cast<float>(h);
    if (std::isnan(f)) continue;
    EXPECT_EQ(Float16(f).bits, h.bits) << bits;
  }
}

TEST(Float16, RoundsToNearestEven) {
  EXPECT_EQ(static_cast<float>(Float16(1.0f + 1.0f / 2048.0f)), 1.0f);  // tie -> even
  EXPECT_EQ(static_cast<float>(Float16(65520.0f)), INFINITY);
  EXPECT_EQ(static_cast<float>(Float16(5.96e-8f)), 5.9604645e-8f);      // smallest subnormal
}

TEST(BFloat16, RoundTripsAndRounds) {
  for (uint32_t bits = 0; bits < 0x10000; bits += 7) {
    BFloat16 b = BFloat16::from_bits(static_cast<uint16_t>(bits));
    float f = static_cast<float>(b);
    if (std::isnan(f)) continue;
    EXPECT_EQ(BFloat16(f).bits, b.bits);
  }
  EXPECT_EQ(static_cast<float>(BFloat16(1.00390625f)), 1.0f);  // tie -> even
}

TEST(Float8E4M3, SaturatesAndRoundTrips) {
  EXPECT_EQ(static_cast<float>(Float8E4M3(1000.0f)), 448.0f);
  EXPECT_EQ(static_cast<float>(Float8E4M3(-1000.0f)), -448.0f);
  EXPECT_TRUE(std::isnan(static_cast<float>(Float8E4M3(NAN))));
  for (uint32_t bits = 0; bits < 0x100; ++bits) {
    Float8E4M3 q = Float8E4M3::from_bits(static_cast<uint8_t>(bits));
    float f = static_cast<float>(q);
    if (std::isnan(f) || f == 0.0f) continue;
    EXPECT_EQ(Float8E4M3(f).bits, q.bits) << bits;
  }
}

}  // namespace
}  // namespace kiln
