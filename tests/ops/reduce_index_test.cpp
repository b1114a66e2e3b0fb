// Reference kernels and shape inference of ArgMax, ArgMin, TopK and CumSum.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>

#include "op_test_util.h"

namespace kiln {
namespace {

using testing::make_int64;
using testing::make_tensor;
using testing::OpRun;
using testing::random_tensor;
using testing::run_op;
using testing::values_of;

Tensor f32(const Shape& shape, const std::vector<double>& values) {
  return make_tensor(DType::kFloat32, shape, values);
}

Attributes arg_attrs(int64_t axis, int64_t keepdims, int64_t select_last_index = 0) {
  Attributes attrs;
  attrs.set("axis", axis);
  attrs.set("keepdims", keepdims);
  attrs.set("select_last_index", select_last_index);
  return attrs;
}

Result<std::vector<Tensor>> arg(OpKind op, const Tensor& data, const Attributes& attrs) {
  return run_op(OpRun{.op = op, .inputs = {data}, .attrs = attrs});
}

TEST(ArgMinMax, HandComputedWithTies) {
  Tensor data = f32(Shape{2, 3}, {2, 8, 8, 7, 1, 7});
  auto first = arg(OpKind::ArgMax, data, arg_attrs(1, 1));
  ASSERT_TRUE(first.ok()) << first.status().to_string();
  EXPECT_EQ((*first)[0].dtype(), DType::kInt64);
  EXPECT_EQ((*first)[0].shape(), (Shape{2, 1}));
  EXPECT_EQ(values_of((*first)[0]), (std::vector<double>{1, 0}));
  auto last = arg(OpKind::ArgMax, data, arg_attrs(-1, 0, 1));
  ASSERT_TRUE(last.ok()) << last.status().to_string();
  EXPECT_EQ((*last)[0].shape(), (Shape{2}));
  EXPECT_EQ(values_of((*last)[0]), (std::vector<double>{2, 2}));
  auto min = arg(OpKind::ArgMin, data, arg_attrs(0, 0));
  ASSERT_TRUE(min.ok()) << min.status().to_string();
  EXPECT_EQ(values_of((*min)[0]), (std::vector<double>{0, 1, 1}));
}

TEST(ArgMinMax, IntegerInputs) {
  const int64_t big = (int64_t{1} << 60);
  Tensor data = make_int64(Shape{3}, {big, big + 1, big - 1});  // equal once rounded to double
  auto max = arg(OpKind::ArgMax, data, arg_attrs(0, 0));
  ASSERT_TRUE(max.ok()) << max.status().to_string();
  EXPECT_EQ(values_of((*max)[0]), (std::vector<double>{1}));
  Tensor small = make_tensor(DType::kInt32, Shape{4}, {3, -9, 4, -9});
  auto min = arg(OpKind::ArgMin, small, arg_attrs(0, 1, 1));
  ASSERT_TRUE(min.ok()) << min.status().to_string();
  EXPECT_EQ(values_of((*min)[0]), (std::vector<double>{3}));
}

TEST(ArgMinMax, RandomPicksTheExtreme) {
  const int64_t rows = 5;
  const int64_t cols = 9;
  Tensor data = random_tensor(DType::kFloat32, Shape{rows, cols}, 61);
  std::vector<double> v = values_of(data);
  for (OpKind op : {OpKind::ArgMax, OpKind::ArgMin}) {
    auto result = arg(op, data, arg_attrs(1, 0));
    ASSERT_TRUE(result.ok()) << result.status().to_string();
    std::vector<double> picked = values_of((*result)[0]);
    for (int64_t r = 0; r < rows; ++r) {
      auto row_begin = v.begin() + r * cols;
      double extreme = op == OpKind::ArgMax ? *std::max_element(row_begin, row_begin + cols)
                                            : *std::min_element(row_begin, row_begin + cols);
      auto index = static_cast<int64_t>(picked[static_cast<size_t>(r)]);
      ASSERT_GE(index, 0);
      ASSERT_LT(index, cols);
      EXPECT_EQ(v[static_cast<size_t>(r * cols + index)], extreme);
    }
  }
}

TEST(ArgMinMax, AxisOutOfRangeIsAnError) {
  Tensor data = f32(Shape{2, 3}, {1, 2, 3, 4, 5, 6});
  for (int64_t axis : {2, -3}) {
    auto result = arg(OpKind::ArgMax, data, arg_attrs(axis, 1));
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  }
  auto empty_axis = arg(OpKind::ArgMin, f32(Shape{2, 0}, {}), arg_attrs(1, 1));
  EXPECT_FALSE(empty_axis.ok());
}

Result<std::vector<Tensor>> topk(const Tensor& data, int64_t k, int64_t axis, int64_t largest, bool constant_k = true) {
  Attributes attrs;
  attrs.set("axis", axis);
  attrs.set("largest", largest);
  OpRun run{.op = OpKind::TopK, .inputs = {data, make_int64(Shape{1}, {k})}, .attrs = attrs, .num_outputs = 2};
  if (constant_k) run.constant_inputs = {1};
  return run_op(run);
}

TEST(TopK, TiesKeepTheSmallerIndexFirst) {
  Tensor data = f32(Shape{1, 4}, {3, 1, 2, 3});
  auto largest = topk(data, 2, -1, 1);
  ASSERT_TRUE(largest.ok()) << largest.status().to_string();
  EXPECT_EQ((*largest)[0].shape(), (Shape{1, 2}));
  EXPECT_EQ(values_of((*largest)[0]), (std::vector<double>{3, 3}));
  EXPECT_EQ((*largest)[1].dtype(), DType::kInt64);
  EXPECT_EQ(values_of((*largest)[1]), (std::vector<double>{0, 3}));
  auto smallest = topk(data, 3, 1, 0);
  ASSERT_TRUE(smallest.ok()) << smallest.status().to_string();
  EXPECT_EQ(values_of((*smallest)[0]), (std::vector<double>{1, 2, 3}));
  EXPECT_EQ(values_of((*smallest)[1]), (std::vector<double>{1, 2, 0}));
}

TEST(TopK, AlongTheFirstAxis) {
  Tensor data = make_tensor(DType::kInt32, Shape{3, 2}, {5, -1, 9, 4, 7, 4});
  auto result = topk(data, 2, 0, 1, false);
  ASSERT_TRUE(result.ok()) << result.status().to_string();
  EXPECT_EQ((*result)[0].dtype(), DType::kInt32);
  EXPECT_EQ((*result)[0].shape(), (Shape{2, 2}));
  EXPECT_EQ(values_of((*result)[0]), (std::vector<double>{9, 4, 7, 4}));
  EXPECT_EQ(values_of((*result)[1]), (std::vector<double>{1, 1, 2, 2}));
}

TEST(TopK, RandomValuesAreSortedAndIndicesGatherBack) {
  const int64_t rows = 4;
  const int64_t cols = 11;
  const int64_t k = 5;
  Tensor data = random_tensor(DType::kFloat32, Shape{rows, cols}, 71);
  std::vector<double> v = values_of(data);
  for (int64_t largest : {0, 1}) {
    auto result = topk(data, k, 1, largest);
    ASSERT_TRUE(result.ok()) << result.status().to_string();
    std::vector<double> values = values_of((*result)[0]);
    std::vector<double> indices = values_of((*result)[1]);
    for (int64_t r = 0; r < rows; ++r) {
      std::vector<double> row(v.begin() + r * cols, v.begin() + (r + 1) * cols);
      if (largest) std::sort(row.begin(), row.end(), std::greater<>());
      else std::sort(row.begin(), row.end());
      for (int64_t j = 0; j < k; ++j) {
        const auto at = static_cast<size_t>(r * k + j);
        EXPECT_EQ(values[at], row[static_cast<size_t>(j)]);
        const auto index = static_cast<int64_t>(indices[at]);
        ASSERT_GE(index, 0);
        ASSERT_LT(index, cols);
        EXPECT_EQ(v[static_cast<size_t>(r * cols + index)], values[at]);
      }
    }
  }
}

TEST(TopK, KLargerThanTheAxisIsAnError) {
  Tensor data = f32(Shape{2, 3}, {1, 2, 3, 4, 5, 6});
  for (bool constant : {true, false}) {
    auto result = topk(data, 4, -1, 1, constant);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  }
  EXPECT_FALSE(topk(data, -1, -1, 1).ok());
  EXPECT_FALSE(topk(data, 1, 2, 1).ok());
}

TEST(TopK, NarrowFloatsKeepTheirType) {
  for (DType dtype : {DType::kFloat16, DType::kBFloat16}) {
    Tensor data = make_tensor(dtype, Shape{5}, {0.5, -2, 4, 1, 4});
    auto result = topk(data, 2, 0, 1);
    ASSERT_TRUE(result.ok()) << result.status().to_string();
    EXPECT_EQ((*result)[0].dtype(), dtype);
    EXPECT_EQ(values_of((*result)[0]), (std::vector<double>{4, 4}));
    EXPECT_EQ(values_of((*result)[1]), (std::vector<double>{2, 4}));
    auto argmin = arg(OpKind::ArgMin, data, arg_attrs(0, 0));
    ASSERT_TRUE(argmin.ok()) << argmin.status().to_string();
    EXPECT_EQ(values_of((*argmin)[0]), (std::vector<double>{1}));
  }
}

TEST(TopK, KZeroGivesEmptyOutputs) {
  Tensor data = f32(Shape{2, 3}, {1, 2, 3, 4, 5, 6});
  auto result = topk(data, 0, 1, 1);
  ASSERT_TRUE(result.ok()) << result.status().to_string();
  EXPECT_EQ((*result)[0].shape(), (Shape{2, 0}));
  EXPECT_EQ((*result)[1].shape(), (Shape{2, 0}));
}

Result<std::vector<Tensor>> cumsum(const Tensor& data, int64_t axis, int64_t exclusive, int64_t reverse) {
  Attributes attrs;
  attrs.set("exclusive", exclusive);
  attrs.set("reverse", reverse);
  Tensor axis_tensor = make_tensor(DType::kInt32, Shape{}, {static_cast<double>(axis)});
  return run_op(OpRun{.op = OpKind::CumSum, .inputs = {data, axis_tensor}, .attrs = attrs, .constant_inputs = {1}});
}

TEST(CumSum, ExclusiveAndReverse) {
  Tensor data = f32(Shape{4}, {1, 2, 3, 4});
  struct Case {
    int64_t exclusive;
    int64_t reverse;
    std::vector<double> expected;
  };
  for (const Case& c : {Case{0, 0, {1, 3, 6, 10}}, Case{1, 0, {0, 1, 3, 6}}, Case{0, 1, {10, 9, 7, 4}},
                        Case{1, 1, {9, 7, 4, 0}}}) {
    auto result = cumsum(data, 0, c.exclusive, c.reverse);
    ASSERT_TRUE(result.ok()) << result.status().to_string();
    EXPECT_EQ(values_of((*result)[0]), c.expected) << "exclusive=" << c.exclusive << " reverse=" << c.reverse;
  }
}

TEST(CumSum, AlongANegativeAxisOfIntegers) {
  Tensor data = make_int64(Shape{2, 3}, {1, 2, 3, 4, 5, 6});
  auto rows = cumsum(data, -2, 0, 0);
  ASSERT_TRUE(rows.ok()) << rows.status().to_string();
  EXPECT_EQ((*rows)[0].dtype(), DType::kInt64);
  EXPECT_EQ(values_of((*rows)[0]), (std::vector<double>{1, 2, 3, 5, 7, 9}));
}

TEST(CumSum, LastElementEqualsReduceSum) {
  Tensor data = random_tensor(DType::kFloat64, Shape{3, 6}, 81);
  auto running = cumsum(data, 1, 0, 0);
  ASSERT_TRUE(running.ok()) << running.status().to_string();
  auto total = run_op(OpRun{.op = OpKind::ReduceSum, .inputs = {data, make_int64(Shape{1}, {1})},
                            .constant_inputs = {1}});
  ASSERT_TRUE(total.ok()) << total.status().to_string();
  std::vector<double> r = values_of((*running)[0]);
  std::vector<double> t = values_of((*total)[0]);
  for (size_t row = 0; row < 3; ++row) EXPECT_NEAR(r[row * 6 + 5], t[row], 1e-12);
}

TEST(CumSum, AxisOutOfRangeIsAnError) {
  Tensor data = f32(Shape{2, 2}, {1, 2, 3, 4});
  auto result = cumsum(data, 2, 0, 0);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kiln
