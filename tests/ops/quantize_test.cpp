// Reference kernels and shape inference of QuantizeLinear, DequantizeLinear and
// DynamicQuantizeLinear.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "op_test_util.h"

namespace kiln {
namespace {

using testing::make_tensor;
using testing::OpRun;
using testing::random_tensor;
using testing::run_op;
using testing::values_of;

Tensor f32(const Shape& shape, const std::vector<double>& values) {
  return make_tensor(DType::kFloat32, shape, values);
}

Attributes axis_attr(int64_t axis) {
  Attributes attrs;
  attrs.set("axis", axis);
  return attrs;
}

TEST(QuantizeLinear, DefaultsToUInt8AndRoundsHalfToEven) {
  // x / 2 = 0, 1, 1.5, 2.5, -1.5, 500, -127, -500; zero point 128.
  Tensor x = f32(Shape{8}, {0, 2, 3, 5, -3, 1000, -254, -1000});
  Tensor scale = f32(Shape{}, {2});
  Tensor zero_point = make_tensor(DType::kUInt8, Shape{}, {128});
  auto result = run_op(OpRun{.op = OpKind::QuantizeLinear, .inputs = {x, scale, zero_point}});
  ASSERT_TRUE(result.ok()) << result.status().to_string();
  EXPECT_EQ((*result)[0].dtype(), DType::kUInt8);
  EXPECT_EQ(values_of((*result)[0]), (std::vector<double>{128, 129, 130, 130, 126, 255, 1, 0}));

  auto no_zero_point = run_op(OpRun{.op = OpKind::QuantizeLinear, .inputs = {x, scale}});
  ASSERT_TRUE(no_zero_point.ok()) << no_zero_point.status().to_string();
  EXPECT_EQ((*no_zero_point)[0].dtype(), DType::kUInt8);
  EXPECT_EQ(values_of((*no_zero_point)[0]), (std::vector<double>{0, 1, 2, 2, 0, 255, 0, 0}));
}

TEST(QuantizeLinear, Int8ZeroPointSetsTheOutputType) {
  Tensor x = f32(Shape{5}, {0.5, 1.5, -0.5, 200, -200});
  Tensor scale = f32(Shape{1}, {1});
  Tensor zero_point = make_tensor(DType::kInt8, Shape{1}, {-1});
  auto result = run_op(OpRun{.op = OpKind::QuantizeLinear, .inputs = {x, scale, zero_point}});
  ASSERT_TRUE(result.ok()) << result.status().to_string();
  EXPECT_EQ((*result)[0].dtype(), DType::kInt8);
  EXPECT_EQ(values_of((*result)[0]), (std::vector<double>{-1, 1, -1, 127, -128}));
}

TEST(QuantizeLinear, PerAxisScales) {
  Tensor x = f32(Shape{2, 3}, {4, 4, 4, -4, 8, 16});
  Tensor scale = f32(Shape{3}, {1, 2, 4});
  Tensor zero_point = make_tensor(DType::kUInt8, Shape{3}, {0, 1, 2});
  for (int64_t axis : {1, -1}) {
    auto result = run_op(OpRun{.op = OpKind::QuantizeLinear, .inputs = {x, scale, zero_point},
                               .attrs = axis_attr(axis), .constant_inputs = {1, 2}});
    ASSERT_TRUE(result.ok()) << result.status().to_string();
    EXPECT_EQ(values_of((*result)[0]), (std::vector<double>{4, 3, 3, 0, 5, 6}));
  }
}

TEST(QuantizeLinear, ScaleCountMustMatchTheAxis) {
  Tensor x = f32(Shape{2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor scale = f32(Shape{2}, {1, 2});
  for (bool constant : {true, false}) {
    OpRun run{.op = OpKind::QuantizeLinear, .inputs = {x, scale}, .attrs = axis_attr(1)};
    if (constant) run.constant_inputs = {1};
    auto result = run_op(run);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  }
  Tensor bad_zero_point = make_tensor(DType::kInt32, Shape{}, {0});
  EXPECT_FALSE(run_op(OpRun{.op = OpKind::QuantizeLinear, .inputs = {x, f32(Shape{}, {1}), bad_zero_point}}).ok());
}

TEST(QuantizeDequantize, UInt8Int8AndInt32) {
  Tensor u8 = make_tensor(DType::kUInt8, Shape{3}, {0, 128, 255});
  auto from_u8 = run_op(OpRun{.op = OpKind::DequantizeLinear,
                              .inputs = {u8, f32(Shape{}, {0.5}), make_tensor(DType::kUInt8, Shape{}, {128})}});
  ASSERT_TRUE(from_u8.ok()) << from_u8.status().to_string();
  EXPECT_EQ((*from_u8)[0].dtype(), DType::kFloat32);
  EXPECT_EQ(values_of((*from_u8)[0]), (std::vector<double>{-64, 0, 63.5}));

  Tensor i32 = make_tensor(DType::kInt32, Shape{2}, {-5, 7});
  auto from_i32 = run_op(OpRun{.op = OpKind::DequantizeLinear, .inputs = {i32, f32(Shape{}, {0.25})}});
  ASSERT_TRUE(from_i32.ok()) << from_i32.status().to_string();
  EXPECT_EQ(values_of((*from_i32)[0]), (std::vector<double>{-1.25, 1.75}));

  // Per-axis along axis 0 of a 2x2 int8 tensor.
  Tensor i8 = make_tensor(DType::kInt8, Shape{2, 2}, {-128, 127, 10, -10});
  auto per_axis = run_op(OpRun{.op = OpKind::DequantizeLinear,
                               .inputs = {i8, f32(Shape{2}, {1, 0.5}), make_tensor(DType::kInt8, Shape{2}, {0, -10})},
                               .attrs = axis_attr(0)});
  ASSERT_TRUE(per_axis.ok()) << per_axis.status().to_string();
  EXPECT_EQ(values_of((*per_axis)[0]), (std::vector<double>{-128, 127, 10, 0}));
}

TEST(QuantizeDequantize, ZeroPointTypeMustMatch) {
  Tensor i8 = make_tensor(DType::kInt8, Shape{2}, {1, 2});
  auto result = run_op(OpRun{.op = OpKind::DequantizeLinear,
                             .inputs = {i8, f32(Shape{}, {1}), make_tensor(DType::kUInt8, Shape{}, {0})}});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
}

TEST(QuantizeDequantize, RoundTripErrorIsAtMostHalfAStep) {
  const double scale = 0.03;
  const double zero_point = 120;
  // The representable range is [(0 - 120) * 0.03, (255 - 120) * 0.03] = [-3.6, 4.05].
  Tensor x = random_tensor(DType::kFloat32, Shape{4, 50}, 91, -3.6, 4.05);
  Tensor scale_t = f32(Shape{}, {scale});
  Tensor zero_point_t = make_tensor(DType::kUInt8, Shape{}, {zero_point});
  auto q = run_op(OpRun{.op = OpKind::QuantizeLinear, .inputs = {x, scale_t, zero_point_t}});
  ASSERT_TRUE(q.ok()) << q.status().to_string();
  auto dq = run_op(OpRun{.op = OpKind::DequantizeLinear, .inputs = {(*q)[0], scale_t, zero_point_t}});
  ASSERT_TRUE(dq.ok()) << dq.status().to_string();
  std::vector<double> original = values_of(x);
  std::vector<double> restored = values_of((*dq)[0]);
  const double float_slack = 1e-6;
  for (size_t i = 0; i < original.size(); ++i)
    EXPECT_LE(std::fabs(restored[i] - original[i]), scale / 2 + float_slack) << "x=" << original[i];
}

Result<std::vector<Tensor>> dynamic_quantize(const Tensor& x) {
  return run_op(OpRun{.op = OpKind::DynamicQuantizeLinear, .inputs = {x}, .num_outputs = 3});
}

TEST(QuantizeDynamic, ExactScaleExample) {
  // Range [-128, 127] gives scale 255 / 255 = 1 and zero point 128.
  Tensor x = f32(Shape{2, 3}, {-128, 0, 127, 1.5, 2.5, -3.2});
  auto result = dynamic_quantize(x);
  ASSERT_TRUE(result.ok()) << result.status().to_string();
  EXPECT_EQ((*result)[0].dtype(), DType::kUInt8);
  EXPECT_EQ((*result)[0].shape(), (Shape{2, 3}));
  EXPECT_EQ(values_of((*result)[0]), (std::vector<double>{0, 128, 255, 130, 130, 125}));
  EXPECT_EQ((*result)[1].shape(), Shape{});
  EXPECT_EQ(values_of((*result)[1]), (std::vector<double>{1}));
  EXPECT_EQ((*result)[2].dtype(), DType::kUInt8);
  EXPECT_EQ(values_of((*result)[2]), (std::vector<double>{128}));
}

TEST(QuantizeDynamic, RangeAlwaysIncludesZero) {
  auto positive = dynamic_quantize(f32(Shape{3}, {2, 51, 10}));
  ASSERT_TRUE(positive.ok()) << positive.status().to_string();
  EXPECT_NEAR(values_of((*positive)[1])[0], 51.0 / 255.0, 1e-7);
  EXPECT_EQ(values_of((*positive)[2]), (std::vector<double>{0}));
  EXPECT_EQ(values_of((*positive)[0])[1], 255);

  auto negative = dynamic_quantize(f32(Shape{2}, {-51, -5}));
  ASSERT_TRUE(negative.ok()) << negative.status().to_string();
  EXPECT_EQ(values_of((*negative)[2]), (std::vector<double>{255}));
  EXPECT_EQ(values_of((*negative)[0])[0], 0);

  auto zeros = dynamic_quantize(f32(Shape{2}, {0, 0}));
  ASSERT_TRUE(zeros.ok()) << zeros.status().to_string();
  EXPECT_EQ(values_of((*zeros)[0]), (std::vector<double>{0, 0}));
  EXPECT_EQ(values_of((*zeros)[2]), (std::vector<double>{0}));
}

TEST(QuantizeDynamic, RandomRoundTripWithinHalfAStep) {
  Tensor x = random_tensor(DType::kFloat32, Shape{64}, 101, -2.0, 5.0);
  auto result = dynamic_quantize(x);
  ASSERT_TRUE(result.ok()) << result.status().to_string();
  const double scale = values_of((*result)[1])[0];
  const double zero_point = values_of((*result)[2])[0];
  std::vector<double> original = values_of(x);
  std::vector<double> q = values_of((*result)[0]);
  const double lo = std::min(0.0, *std::min_element(original.begin(), original.end()));
  const double hi = std::max(0.0, *std::max_element(original.begin(), original.end()));
  EXPECT_NEAR(scale, (hi - lo) / 255.0, 1e-6);
  // Rounding the zero point can shift the grid by half a step at the range ends.
  for (size_t i = 0; i < original.size(); ++i)
    EXPECT_LE(std::fabs((q[i] - zero_point) * scale - original[i]), scale + 1e-6) << "x=" << original[i];
}

}  // namespace
}  // namespace kiln
