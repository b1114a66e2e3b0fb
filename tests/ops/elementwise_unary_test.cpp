// Unary math, predicates, Identity and Dropout: hand-computed cases and random property checks.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "elementwise_test_helpers.h"

namespace kiln::testing::elementwise {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(ElementwiseUnary, AbsNegFloatAndInt) {
  Tensor f = make_tensor(DType::kFloat32, {4}, {-1.5, 0.0, 2.0, -kInf});
  expect_values(run_ok(OpKind::Abs, {f}), {1.5, 0.0, 2.0, kInf});
  expect_values(run_ok(OpKind::Neg, {f}), {1.5, 0.0, -2.0, kInf});
  Tensor i8 = make_tensor(DType::kInt8, {3}, {-128, -5, 7});
  // Two's complement wraps: |-128| is -128 in int8 (as numpy and every runtime).
  expect_values(run_ok(OpKind::Abs, {i8}), {-128, 5, 7});
  expect_values(run_ok(OpKind::Neg, {i8}), {-128, 5, -7});
  Tensor u8 = make_tensor(DType::kUInt8, {2}, {0, 200});
  expect_values(run_ok(OpKind::Abs, {u8}), {0, 200});
  EXPECT_EQ(run_status(OpKind::Neg, {u8}).code(), StatusCode::kUnimplemented);
}

TEST(ElementwiseUnary, ExpLogSqrtReciprocalEdgeCases) {
  Tensor x = make_tensor(DType::kFloat64, {4}, {0.0, 1.0, -1.0, 4.0});
  expect_values(run_ok(OpKind::Exp, {x}), {1.0, std::exp(1.0), std::exp(-1.0), std::exp(4.0)}, 1e-12);
  expect_values(run_ok(OpKind::Log, {x}), {-kInf, 0.0, kNaN, std::log(4.0)}, 1e-12);
  expect_values(run_ok(OpKind::Sqrt, {x}), {0.0, 1.0, kNaN, 2.0}, 1e-12);
  expect_values(run_ok(OpKind::Reciprocal, {x}), {kInf, 1.0, -1.0, 0.25}, 1e-12);
  EXPECT_EQ(run_status(OpKind::Exp, {make_tensor(DType::kInt32, {1}, {1})}).code(), StatusCode::kUnimplemented);
}

TEST(ElementwiseUnary, FloorCeilRoundHalfToEven) {
  Tensor x = make_tensor(DType::kFloat32, {9}, {0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4, 2.6, -2.6});
  expect_values(run_ok(OpKind::Round, {x}), {0, 2, 2, 0, -2, -2, 2, 3, -3});
  expect_values(run_ok(OpKind::Floor, {x}), {0, 1, 2, -1, -2, -3, 2, 2, -3});
  expect_values(run_ok(OpKind::Ceil, {x}), {1, 2, 3, 0, -1, -2, 3, 3, -2});
  Tensor special = make_tensor(DType::kFloat32, {3}, {kNaN, kInf, -kInf});
  expect_values(run_ok(OpKind::Round, {special}), {kNaN, kInf, -kInf});
}

TEST(ElementwiseUnary, SignAllTypes) {
  expect_values(run_ok(OpKind::Sign, {make_tensor(DType::kFloat32, {4}, {-3.0, 0.0, 0.1, kNaN})}), {-1, 0, 1, kNaN});
  expect_values(run_ok(OpKind::Sign, {make_tensor(DType::kInt64, {3}, {-9, 0, 4})}), {-1, 0, 1});
  expect_values(run_ok(OpKind::Sign, {make_tensor(DType::kUInt16, {2}, {0, 9})}), {0, 1});
}

TEST(ElementwiseUnary, TrigonometryMatchesStdOnRandomInputs) {
  struct Case {
    OpKind op;
    double (*f)(double);
    double lo, hi;
  };
  const Case cases[] = {
      {OpKind::Sin, [](double x) { return std::sin(x); }, -4, 4},
      {OpKind::Cos, [](double x) { return std::cos(x); }, -4, 4},
      {OpKind::Tan, [](double x) { return std::tan(x); }, -1.2, 1.2},
      {OpKind::Asin, [](double x) { return std::asin(x); }, -1, 1},
      {OpKind::Acos, [](double x) { return std::acos(x); }, -1, 1},
      {OpKind::Atan, [](double x) { return std::atan(x); }, -10, 10},
      {OpKind::Sinh, [](double x) { return std::sinh(x); }, -3, 3},
      {OpKind::Cosh, [](double x) { return std::cosh(x); }, -3, 3},
      {OpKind::Tanh, [](double x) { return std::tanh(x); }, -3, 3},
      {OpKind::Asinh, [](double x) { return std::asinh(x); }, -5, 5},
      {OpKind::Acosh, [](double x) { return std::acosh(x); }, 1, 5},
      {OpKind::Atanh, [](double x) { return std::atanh(x); }, -0.99, 0.99},
      {OpKind::Erf, [](double x) { return std::erf(x); }, -3, 3},
  };
  uint64_t seed = 1000;
  for (const Case& c : cases) {
    Tensor x = random_tensor(DType::kFloat64, {5, 7}, ++seed, c.lo, c.hi);
    SCOPED_TRACE(std::string(op_kind_name(c.op)));
    expect_values(run_ok(c.op, {x}), apply(x, c.f), 1e-12);
  }
  // Out-of-domain inputs give NaN, not an error.
  expect_values(run_ok(OpKind::Asin, {make_tensor(DType::kFloat32, {1}, {2.0})}), {kNaN});
  expect_values(run_ok(OpKind::Atanh, {make_tensor(DType::kFloat32, {1}, {1.0})}), {kInf});
}

TEST(ElementwiseUnary, Float16AndBFloat16ComputeThroughDouble) {
  for (DType dt : {DType::kFloat16, DType::kBFloat16}) {
    Tensor x = make_tensor(dt, {3}, {-2.0, 0.5, 4.0});
    Tensor y = run_ok(OpKind::Sqrt, {x});
    ASSERT_EQ(y.dtype(), dt);
    expect_values(y, {kNaN, std::sqrt(0.5), 2.0}, 1e-2);
    expect_values(run_ok(OpKind::Abs, {x}), {2.0, 0.5, 4.0});
  }
}

TEST(ElementwiseUnary, IsNaNAndIsInfWithDetectAttributes) {
  Tensor x = make_tensor(DType::kFloat32, {5}, {1.0, kNaN, kInf, -kInf, 0.0});
  Tensor nan = run_ok(OpKind::IsNaN, {x});
  ASSERT_EQ(nan.dtype(), DType::kBool);
  expect_values(nan, {0, 1, 0, 0, 0});
  expect_values(run_ok(OpKind::IsInf, {x}), {0, 0, 1, 1, 0});
  Attributes positive_only;
  positive_only.set("detect_negative", int64_t{0});
  expect_values(run_ok(OpKind::IsInf, {x}, positive_only), {0, 0, 1, 0, 0});
  Attributes negative_only;
  negative_only.set("detect_positive", int64_t{0});
  expect_values(run_ok(OpKind::IsInf, {x}, negative_only), {0, 0, 0, 1, 0});
  expect_values(run_ok(OpKind::IsNaN, {make_tensor(DType::kFloat16, {2}, {kNaN, 1.0})}), {1, 0});
}

TEST(ElementwiseUnary, NotRequiresBool) {
  expect_values(run_ok(OpKind::Not, {make_tensor(DType::kBool, {2, 2}, {1, 0, 0, 1})}), {0, 1, 1, 0});
  EXPECT_FALSE(run_status(OpKind::Not, {make_tensor(DType::kFloat32, {1}, {1.0})}).ok());
}

TEST(ElementwiseUnary, IdentityCopiesAnyDtype) {
  Tensor x = random_tensor(DType::kInt64, {3, 4}, 7, -100, 100);
  Tensor y = run_ok(OpKind::Identity, {x});
  EXPECT_EQ(values_of(y), values_of(x));
  EXPECT_FALSE(y.shares_buffer_with(x));
  Tensor s = Tensor::from_strings({2}, {"a", "bc"});
  Tensor ys = run_ok(OpKind::Identity, {s});
  ASSERT_EQ(ys.dtype(), DType::kBytes);
  EXPECT_EQ(ys.strings(), s.strings());
}

TEST(ElementwiseUnary, DropoutInferenceIsIdentityWithTrueMask) {
  Tensor x = random_tensor(DType::kFloat32, {2, 3}, 11);
  expect_values(run_ok(OpKind::Dropout, {x}), values_of(x), 0.0);
  Tensor mask = run_ok(OpKind::Dropout, {x}, {}, 2, 1);
  ASSERT_EQ(mask.dtype(), DType::kBool);
  expect_values(mask, std::vector<double>(6, 1.0));
  Tensor ratio = make_tensor(DType::kFloat32, {}, {0.3});
  Tensor train_off = make_tensor(DType::kBool, {}, {0});
  expect_values(run_ok(OpKind::Dropout, {x, ratio, train_off}), values_of(x), 0.0);
  // Training with ratio 0 keeps everything; with ratio > 0 it is not supported.
  Tensor train_on = make_tensor(DType::kBool, {}, {1});
  Tensor zero = make_tensor(DType::kFloat32, {}, {0.0});
  expect_values(run_ok(OpKind::Dropout, {x, zero, train_on}), values_of(x), 0.0);
  Status training = run_status(OpKind::Dropout, {x, ratio, train_on});
  EXPECT_EQ(training.code(), StatusCode::kUnimplemented);
  EXPECT_NE(training.message().find("training_mode"), std::string::npos) << training.message();
  // Absent ratio with training_mode given.
  EXPECT_EQ(run_status(OpKind::Dropout, {x, Tensor(), train_on}).code(), StatusCode::kUnimplemented);
}

}  // namespace
}  // namespace kiln::testing::elementwise
