// Cast and CastLike between every pair of kiln dtypes, strings included, plus the ONNX data type
// number mapping they rely on.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/onnx_dtype.h"
#include "elementwise_test_helpers.h"

namespace kiln::testing::elementwise {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

Attributes cast_to(DType dtype) {
  Attributes a;
  a.set("to", int64_t{onnx_from_dtype(dtype)});
  return a;
}

const DType kNumericDTypes[] = {DType::kFloat32, DType::kFloat16, DType::kBFloat16, DType::kFloat8E4M3,
                                DType::kFloat64, DType::kInt8,    DType::kUInt8,    DType::kInt16,
                                DType::kUInt16,  DType::kInt32,   DType::kUInt32,   DType::kInt64,
                                DType::kUInt64,  DType::kBool};

TEST(CastOnnxDType, NumbersFollowTensorProto) {
  EXPECT_EQ(dtype_from_onnx(1), DType::kFloat32);
  EXPECT_EQ(dtype_from_onnx(7), DType::kInt64);
  EXPECT_EQ(dtype_from_onnx(8), DType::kBytes);
  EXPECT_EQ(dtype_from_onnx(9), DType::kBool);
  EXPECT_EQ(dtype_from_onnx(10), DType::kFloat16);
  EXPECT_EQ(dtype_from_onnx(16), DType::kBFloat16);
  EXPECT_EQ(dtype_from_onnx(17), DType::kFloat8E4M3);
  EXPECT_EQ(dtype_from_onnx(14), std::nullopt);  // complex64
  EXPECT_EQ(dtype_from_onnx(-1), std::nullopt);
  for (size_t i = 1; i < static_cast<size_t>(DType::kCount); ++i) {
    auto dt = static_cast<DType>(i);
    EXPECT_EQ(dtype_from_onnx(onnx_from_dtype(dt)), dt) << dtype_name(dt);
  }
}

TEST(CastPairs, SmallIntegersSurviveEveryPair) {
  // 0, 1 and 3 are exact in every numeric dtype (bool maps 3 to true = 1).
  for (DType from : kNumericDTypes) {
    for (DType to : kNumericDTypes) {
      Tensor x = make_tensor(from, {3}, {0.0, 1.0, from == DType::kBool ? 1.0 : 3.0});
      Tensor y = run_ok(OpKind::Cast, {x}, cast_to(to));
      SCOPED_TRACE(std::string(dtype_name(from)) + " -> " + std::string(dtype_name(to)));
      ASSERT_EQ(y.dtype(), to);
      const double last = (from == DType::kBool || to == DType::kBool) ? 1 : 3;
      expect_values(y, {0, 1, last}, 0.0);
    }
  }
}

TEST(CastFloat, ToIntegersTruncatesAndSaturates) {
  Tensor x = make_tensor(DType::kFloat32, {6}, {2.9, -2.9, 1e10, -1e10, kNaN, 300});
  expect_values(run_ok(OpKind::Cast, {x}, cast_to(DType::kInt32)), {2, -2, 2147483647, -2147483648.0, 0, 300});
  expect_values(run_ok(OpKind::Cast, {x}, cast_to(DType::kUInt8)), {2, 0, 255, 0, 0, 255});
  expect_values(run_ok(OpKind::Cast, {x}, cast_to(DType::kBool)), {1, 1, 1, 1, 1, 1});
  expect_values(run_ok(OpKind::Cast, {make_tensor(DType::kFloat32, {2}, {0.0, -0.0})}, cast_to(DType::kBool)), {0, 0});
}

TEST(CastFloat, NarrowFormatsRoundToNearest) {
  Tensor x = make_tensor(DType::kFloat32, {4}, {1.0 + 1.0 / 4096, 65520.0, kInf, kNaN});
  // 1 + 2^-12 rounds to 1 in float16 (10 mantissa bits); 65520 overflows to inf.
  expect_values(run_ok(OpKind::Cast, {x}, cast_to(DType::kFloat16)), {1.0, kInf, kInf, kNaN});
  // bfloat16 keeps 7 mantissa bits: both values are exact halfway points and round to even.
  expect_values(run_ok(OpKind::Cast, {make_tensor(DType::kFloat32, {2}, {1.0 + 1.0 / 256, 1.0 + 3.0 / 256})},
                       cast_to(DType::kBFloat16)),
                {1.0, 1.0 + 2.0 / 128}, 0.0);
  // float8 e4m3fn saturates at 448.
  expect_values(run_ok(OpKind::Cast, {make_tensor(DType::kFloat32, {2}, {1000.0, -0.5})}, cast_to(DType::kFloat8E4M3)),
                {448.0, -0.5});
}

TEST(CastInteger, NarrowingWrapsLikeTwosComplement) {
  Tensor x = make_int64({3}, {256 + 7, -1, int64_t{1} << 40});
  expect_values(run_ok(OpKind::Cast, {x}, cast_to(DType::kUInt8)), {7, 255, 0});
  expect_values(run_ok(OpKind::Cast, {x}, cast_to(DType::kInt8)), {7, -1, 0});
  Tensor big = make_int64({1}, {(int64_t{1} << 62) + 1});
  Tensor same = run_ok(OpKind::Cast, {big}, cast_to(DType::kUInt64));
  EXPECT_EQ(same.data<uint64_t>()[0], (uint64_t{1} << 62) + 1);
}

TEST(CastStrings, ParseNumbersInPlainAndScientificForm) {
  Tensor s = Tensor::from_strings({6}, {"3.14", "1e-5", "-1E8", "INF", "-inf", "NaN"});
  Tensor f = run_ok(OpKind::Cast, {s}, cast_to(DType::kFloat32));
  ASSERT_EQ(f.dtype(), DType::kFloat32);
  expect_values(f, {3.14, 1e-5, -1e8, kInf, -kInf, kNaN});
  Tensor ints = Tensor::from_strings({3}, {"42", " -7 ", "9223372036854775807"});
  Tensor i = run_ok(OpKind::Cast, {ints}, cast_to(DType::kInt64));
  EXPECT_EQ(i.data<int64_t>()[0], 42);
  EXPECT_EQ(i.data<int64_t>()[1], -7);
  EXPECT_EQ(i.data<int64_t>()[2], std::numeric_limits<int64_t>::max());
  expect_values(run_ok(OpKind::Cast, {Tensor::from_strings({3}, {"true", "0", "2.5"})}, cast_to(DType::kBool)), {1, 0, 1});
  Status bad = run_status(OpKind::Cast, {Tensor::from_strings({1}, {"abc"})}, cast_to(DType::kFloat32));
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("abc"), std::string::npos) << bad.message();
}

TEST(CastStrings, NumbersFormatAndRoundTrip) {
  Tensor x = random_tensor(DType::kFloat32, {8}, 81, -1000, 1000);
  Tensor s = run_ok(OpKind::Cast, {x}, cast_to(DType::kBytes));
  ASSERT_EQ(s.dtype(), DType::kBytes);
  // Shortest round-trip text: reading it back gives the same float32 exactly.
  expect_values(run_ok(OpKind::Cast, {s}, cast_to(DType::kFloat32)), values_of(x), 0.0);
  Tensor ints = run_ok(OpKind::Cast, {make_int64({2}, {-12, 0})}, cast_to(DType::kBytes));
  EXPECT_EQ(ints.strings(), (std::vector<std::string>{"-12", "0"}));
  Tensor bools = run_ok(OpKind::Cast, {make_tensor(DType::kBool, {2}, {1, 0})}, cast_to(DType::kBytes));
  EXPECT_EQ(bools.strings(), (std::vector<std::string>{"True", "False"}));
  Tensor halves = run_ok(OpKind::Cast, {make_tensor(DType::kFloat16, {2}, {0.5, -2})}, cast_to(DType::kBytes));
  EXPECT_EQ(halves.strings(), (std::vector<std::string>{"0.5", "-2"}));
}

TEST(CastAttributes, MissingOrUnknownToIsAnError) {
  Tensor x = make_tensor(DType::kFloat32, {1}, {1});
  EXPECT_FALSE(run_status(OpKind::Cast, {x}).ok());
  Attributes complex;
  complex.set("to", int64_t{14});
  EXPECT_FALSE(run_status(OpKind::Cast, {x}, complex).ok());
}

TEST(CastLike, TakesTheDtypeOfInputOne) {
  Tensor x = make_tensor(DType::kFloat64, {2, 2}, {1.5, -2.5, 3.75, 0});
  Tensor like = make_tensor(DType::kInt16, {1}, {0});
  Tensor y = run_ok(OpKind::CastLike, {x, like});
  ASSERT_EQ(y.dtype(), DType::kInt16);
  EXPECT_EQ(y.shape(), Shape({2, 2}));
  expect_values(y, {1, -2, 3, 0});
  Tensor h = run_ok(OpKind::CastLike, {x, make_tensor(DType::kBFloat16, {}, {0})});
  ASSERT_EQ(h.dtype(), DType::kBFloat16);
  expect_values(h, {1.5, -2.5, 3.75, 0});
}

}  // namespace
}  // namespace kiln::testing::elementwise
