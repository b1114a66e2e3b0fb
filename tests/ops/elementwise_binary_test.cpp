// Binary ops with broadcasting: arithmetic, Mod, Pow, comparisons, logic, BitShift, Where.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "elementwise_test_helpers.h"

namespace kiln::testing::elementwise {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(ElementwiseBinary, ArithmeticBroadcastsAcrossRanks) {
  Tensor a = make_tensor(DType::kFloat32, {2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor row = make_tensor(DType::kFloat32, {3}, {10, 20, 30});
  Tensor col = make_tensor(DType::kFloat32, {2, 1}, {100, 200});
  Tensor scalar = make_tensor(DType::kFloat32, {}, {2});
  expect_values(run_ok(OpKind::Add, {a, row}), {11, 22, 33, 14, 25, 36});
  expect_values(run_ok(OpKind::Sub, {col, a}), {99, 98, 97, 196, 195, 194});
  expect_values(run_ok(OpKind::Mul, {scalar, a}), {2, 4, 6, 8, 10, 12});
  expect_values(run_ok(OpKind::Div, {a, scalar}), {0.5, 1, 1.5, 2, 2.5, 3});
  Tensor outer = run_ok(OpKind::Add, {row, col});
  EXPECT_EQ(outer.shape(), Shape({2, 3}));
  expect_values(outer, {110, 120, 130, 210, 220, 230});
  // Rank 3 against rank 2, both broadcasting.
  Tensor r3 = make_tensor(DType::kFloat32, {2, 1, 2}, {1, 2, 3, 4});
  Tensor r2 = make_tensor(DType::kFloat32, {3, 1}, {10, 20, 30});
  Tensor sum = run_ok(OpKind::Add, {r3, r2});
  EXPECT_EQ(sum.shape(), Shape({2, 3, 2}));
  expect_values(sum, {11, 12, 21, 22, 31, 32, 13, 14, 23, 24, 33, 34});
}

TEST(ElementwiseBinary, BroadcastMatchesIndexArithmeticOnRandomInputs) {
  Tensor a = random_tensor(DType::kFloat64, {4, 1, 5}, 51);
  Tensor b = random_tensor(DType::kFloat64, {3, 1}, 52);
  Tensor out = run_ok(OpKind::Mul, {a, b});
  ASSERT_EQ(out.shape(), Shape({4, 3, 5}));
  std::vector<double> va = values_of(a), vb = values_of(b), vo = values_of(out);
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 5; ++k) EXPECT_EQ(vo[static_cast<size_t>((i * 3 + j) * 5 + k)], va[i * 5 + k] * vb[j]);
}

TEST(ElementwiseBinary, SubThenAddRoundTripsAndDivUndoesMul) {
  Tensor a = random_tensor(DType::kFloat64, {6, 7}, 61, -5, 5);
  Tensor b = random_tensor(DType::kFloat64, {7}, 62, 0.5, 3);
  Tensor diff = run_ok(OpKind::Sub, {a, b});
  expect_values(run_ok(OpKind::Add, {diff, b}), values_of(a), 1e-12);
  Tensor prod = run_ok(OpKind::Mul, {a, b});
  expect_values(run_ok(OpKind::Div, {prod, b}), values_of(a), 1e-12);
}

TEST(ElementwiseBinary, IntegerArithmeticTruncatesAndWraps) {
  Tensor a = make_tensor(DType::kInt32, {4}, {-7, 7, -7, 7});
  Tensor b = make_tensor(DType::kInt32, {4}, {2, 2, -2, -2});
  expect_values(run_ok(OpKind::Div, {a, b}), {-3, 3, 3, -3});
  Tensor i8 = make_tensor(DType::kInt8, {2}, {127, -128});
  Tensor one = make_tensor(DType::kInt8, {1}, {1});
  expect_values(run_ok(OpKind::Add, {i8, one}), {-128, -127});
  expect_values(run_ok(OpKind::Div, {make_tensor(DType::kInt8, {1}, {-128}), make_tensor(DType::kInt8, {1}, {-1})}),
                {-128});
  expect_values(run_ok(OpKind::Mul, {make_tensor(DType::kUInt8, {1}, {200}), make_tensor(DType::kUInt8, {1}, {2})}),
                {144});
  Status by_zero = run_status(OpKind::Div, {a, make_tensor(DType::kInt32, {1}, {0})});
  EXPECT_EQ(by_zero.code(), StatusCode::kInvalidArgument);
  // Float division by zero follows IEEE.
  expect_values(run_ok(OpKind::Div, {make_tensor(DType::kFloat32, {3}, {1, -1, 0}), make_tensor(DType::kFloat32, {}, {0})}),
                {kInf, -kInf, kNaN});
}

TEST(ElementwiseBinary, ModSignOfDivisorAndFmod) {
  Tensor x = make_tensor(DType::kInt64, {6}, {-4, 7, 5, 4, -7, 8});
  Tensor y = make_tensor(DType::kInt64, {6}, {17, -12, 2, -3, 5, -8});
  expect_values(run_ok(OpKind::Mod, {x, y}), {13, -5, 1, -2, 3, 0});
  Attributes fmod;
  fmod.set("fmod", int64_t{1});
  expect_values(run_ok(OpKind::Mod, {x, y}, fmod), {-4, 7, 1, 1, -2, 0});
  Tensor xf = make_tensor(DType::kFloat64, {3}, {-4.5, 7.25, 5.0});
  Tensor yf = make_tensor(DType::kFloat64, {3}, {2.0, -2.0, 0.0});
  expect_values(run_ok(OpKind::Mod, {xf, yf}, fmod), {-0.5, 1.25, kNaN});
  EXPECT_EQ(run_status(OpKind::Mod, {xf, yf}).code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(run_status(OpKind::Mod, {x, make_int64({1}, {0})}).ok());
  expect_values(run_ok(OpKind::Mod, {make_tensor(DType::kUInt8, {2}, {7, 200}), make_tensor(DType::kUInt8, {}, {3})}),
                {1, 2});
}

TEST(ElementwiseBinary, PowMixesIntegerAndFloat) {
  Tensor base = make_tensor(DType::kFloat32, {3}, {2, 4, -8});
  Tensor exponent = make_tensor(DType::kFloat32, {3}, {3, 0.5, 1.0 / 3.0});
  expect_values(run_ok(OpKind::Pow, {base, exponent}), {8, 2, kNaN});
  Tensor int_base = make_int64({3}, {1, 2, 3});
  Tensor float_exp = make_tensor(DType::kFloat32, {3}, {4, 5, 6});
  Tensor p = run_ok(OpKind::Pow, {int_base, float_exp});
  ASSERT_EQ(p.dtype(), DType::kInt64);
  expect_values(p, {1, 32, 729});
  Tensor float_base = make_tensor(DType::kFloat32, {3}, {1, 2, 3});
  Tensor int_exp = make_int64({}, {2});
  Tensor q = run_ok(OpKind::Pow, {float_base, int_exp});
  ASSERT_EQ(q.dtype(), DType::kFloat32);
  expect_values(q, {1, 4, 9});
  // Exact int64 powers beyond 2^53 and negative integer exponents.
  expect_values(run_ok(OpKind::Pow, {make_int64({1}, {3}), make_int64({1}, {39})}), {4052555153018976267.0});
  EXPECT_EQ(run_ok(OpKind::Pow, {make_int64({1}, {3}), make_int64({1}, {39})}).data<int64_t>()[0],
            int64_t{4052555153018976267});
  expect_values(run_ok(OpKind::Pow, {make_int64({3}, {2, 1, -1}), make_int64({1}, {-1})}), {0, 1, -1});
}

TEST(ElementwiseBinary, ComparisonsOutputBoolAndHandleNaN) {
  Tensor a = make_tensor(DType::kFloat32, {4}, {1, 2, 3, kNaN});
  Tensor b = make_tensor(DType::kFloat32, {}, {2});
  Tensor eq = run_ok(OpKind::Equal, {a, b});
  ASSERT_EQ(eq.dtype(), DType::kBool);
  expect_values(eq, {0, 1, 0, 0});
  expect_values(run_ok(OpKind::Greater, {a, b}), {0, 0, 1, 0});
  expect_values(run_ok(OpKind::GreaterOrEqual, {a, b}), {0, 1, 1, 0});
  expect_values(run_ok(OpKind::Less, {a, b}), {1, 0, 0, 0});
  expect_values(run_ok(OpKind::LessOrEqual, {a, b}), {1, 1, 0, 0});
  expect_values(run_ok(OpKind::Equal, {a, a}), {1, 1, 1, 0});
  Tensor i = make_int64({2, 1}, {5, -5});
  Tensor j = make_int64({2}, {-5, 5});
  expect_values(run_ok(OpKind::Less, {i, j}), {0, 0, 0, 1});
  Tensor t = make_tensor(DType::kBool, {2}, {1, 0});
  expect_values(run_ok(OpKind::Equal, {t, make_tensor(DType::kBool, {2}, {1, 1})}), {1, 0});
  EXPECT_FALSE(run_status(OpKind::Greater, {t, t}).ok());
  EXPECT_FALSE(run_status(OpKind::Equal, {a, make_int64({1}, {1})}).ok());
}

TEST(ElementwiseBinary, LogicTruthTablesWithBroadcast) {
  Tensor a = make_tensor(DType::kBool, {2, 1}, {0, 1});
  Tensor b = make_tensor(DType::kBool, {2}, {0, 1});
  expect_values(run_ok(OpKind::And, {a, b}), {0, 0, 0, 1});
  expect_values(run_ok(OpKind::Or, {a, b}), {0, 1, 1, 1});
  expect_values(run_ok(OpKind::Xor, {a, b}), {0, 1, 1, 0});
  EXPECT_FALSE(run_status(OpKind::And, {make_tensor(DType::kInt32, {1}, {1}), make_tensor(DType::kInt32, {1}, {1})}).ok());
}

TEST(ElementwiseBinary, BitShiftDirections) {
  Tensor x = make_tensor(DType::kUInt8, {4}, {16, 4, 1, 255});
  Tensor s = make_tensor(DType::kUInt8, {4}, {1, 2, 3, 1});
  Attributes left, right;
  left.set("direction", std::string("LEFT"));
  right.set("direction", std::string("RIGHT"));
  expect_values(run_ok(OpKind::BitShift, {x, s}, left), {32, 16, 8, 254});
  expect_values(run_ok(OpKind::BitShift, {x, s}, right), {8, 1, 0, 127});
  Tensor x64 = Tensor::from_vector<uint64_t>(DType::kUInt64, {2}, {1, 1});
  Tensor s64 = Tensor::from_vector<uint64_t>(DType::kUInt64, {2}, {63, 64});
  Tensor big = run_ok(OpKind::BitShift, {x64, s64}, left);
  EXPECT_EQ(big.data<uint64_t>()[0], uint64_t{1} << 63);
  EXPECT_EQ(big.data<uint64_t>()[1], 0u);
  Attributes bad;
  bad.set("direction", std::string("UP"));
  EXPECT_FALSE(run_status(OpKind::BitShift, {x, s}, bad).ok());
  EXPECT_FALSE(run_status(OpKind::BitShift, {make_int64({1}, {1}), make_int64({1}, {1})}, left).ok());
}

TEST(ElementwiseBinary, WhereBroadcastsAllThreeInputs) {
  Tensor cond = make_tensor(DType::kBool, {2, 1}, {1, 0});
  Tensor x = make_tensor(DType::kFloat32, {3}, {1, 2, 3});
  Tensor y = make_tensor(DType::kFloat32, {}, {-1});
  Tensor out = run_ok(OpKind::Where, {cond, x, y});
  EXPECT_EQ(out.shape(), Shape({2, 3}));
  expect_values(out, {1, 2, 3, -1, -1, -1});
  Tensor strings = run_ok(OpKind::Where, {make_tensor(DType::kBool, {2}, {0, 1}), Tensor::from_strings({2}, {"a", "b"}),
                                          Tensor::from_strings({1}, {"z"})});
  ASSERT_EQ(strings.dtype(), DType::kBytes);
  EXPECT_EQ(strings.strings(), (std::vector<std::string>{"z", "b"}));
  EXPECT_FALSE(run_status(OpKind::Where, {make_tensor(DType::kFloat32, {1}, {1}), x, x}).ok());
}

TEST(ElementwiseBinary, ErrorsInsteadOfCrashes) {
  Tensor a = make_tensor(DType::kFloat32, {2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor b = make_tensor(DType::kFloat32, {4}, {1, 2, 3, 4});
  for (OpKind op : {OpKind::Add, OpKind::Sub, OpKind::Mul, OpKind::Div, OpKind::Pow, OpKind::Equal, OpKind::Max,
                    OpKind::Sum}) {
    Status s = run_status(op, {a, b});
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << op_kind_name(op) << ": " << s.to_string();
  }
  EXPECT_FALSE(run_status(OpKind::Add, {a, make_tensor(DType::kFloat64, {3}, {1, 2, 3})}).ok());
  EXPECT_FALSE(run_status(OpKind::Add, {make_tensor(DType::kBool, {1}, {1}), make_tensor(DType::kBool, {1}, {1})}).ok());
}

TEST(ElementwiseVariadic, MaxMinPropagateNaNAndBroadcast) {
  Tensor a = make_tensor(DType::kFloat32, {3}, {1, kNaN, 5});
  Tensor b = make_tensor(DType::kFloat32, {2, 1}, {2, 4});
  Tensor c = make_tensor(DType::kFloat32, {}, {3});
  Tensor mx = run_ok(OpKind::Max, {a, b, c});
  EXPECT_EQ(mx.shape(), Shape({2, 3}));
  expect_values(mx, {3, kNaN, 5, 4, kNaN, 5});
  expect_values(run_ok(OpKind::Min, {a, b, c}), {1, kNaN, 2, 1, kNaN, 3});
  expect_values(run_ok(OpKind::Max, {a}), {1, kNaN, 5});
  Tensor i = make_tensor(DType::kInt32, {3}, {-3, 0, 3});
  expect_values(run_ok(OpKind::Max, {i, make_tensor(DType::kInt32, {}, {1})}), {1, 1, 3});
  expect_values(run_ok(OpKind::Min, {i, make_tensor(DType::kInt32, {}, {1})}), {-3, 0, 1});
}

TEST(ElementwiseVariadic, SumAndMeanOfRandomInputs) {
  Tensor a = random_tensor(DType::kFloat64, {3, 4}, 71);
  Tensor b = random_tensor(DType::kFloat64, {4}, 72);
  Tensor c = random_tensor(DType::kFloat64, {3, 1}, 73);
  Tensor sum = run_ok(OpKind::Sum, {a, b, c});
  Tensor pairwise = run_ok(OpKind::Add, {run_ok(OpKind::Add, {a, b}), c});
  expect_values(sum, values_of(pairwise), 1e-12);
  std::vector<double> mean = values_of(pairwise);
  for (double& v : mean) v /= 3.0;
  expect_values(run_ok(OpKind::Mean, {a, b, c}), mean, 1e-12);
  expect_values(run_ok(OpKind::Sum, {a}), values_of(a), 0.0);
  Tensor h = make_tensor(DType::kFloat16, {2}, {1.5, -2});
  Tensor hs = run_ok(OpKind::Sum, {h, h, h});
  ASSERT_EQ(hs.dtype(), DType::kFloat16);
  expect_values(hs, {4.5, -6});
  EXPECT_FALSE(run_status(OpKind::Sum, {make_int64({1}, {1}), make_int64({1}, {1})}).ok());
}

}  // namespace
}  // namespace kiln::testing::elementwise
