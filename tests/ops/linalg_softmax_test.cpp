// Softmax, LogSoftmax and Hardmax: properties on fresh random inputs plus a hand-computed case.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "op_test_util.h"

namespace kiln::testing {
namespace {

Tensor run_single(OpRun run) {
  auto result = run_op(run);
  EXPECT_TRUE(result.ok()) << result.status().to_string();
  return result.ok() ? (*result)[0] : Tensor();
}

Attributes axis_attr(int64_t axis) {
  Attributes a;
  a.set("axis", axis);
  return a;
}

TEST(Softmax, HandComputedRow) {
  Tensor x = make_tensor(DType::kFloat32, {1, 3}, {0.0, std::log(2.0), std::log(5.0)});
  Tensor y = run_single({OpKind::Softmax, {x}});
  std::vector<double> v = values_of(y);
  EXPECT_NEAR(v[0], 1.0 / 8.0, 1e-6);
  EXPECT_NEAR(v[1], 2.0 / 8.0, 1e-6);
  EXPECT_NEAR(v[2], 5.0 / 8.0, 1e-6);
}

TEST(Softmax, RowsSumToOneAlongEachAxis) {
  const Shape shape{3, 4, 5};
  Tensor x = random_tensor(DType::kFloat32, shape, 71, -10.0, 10.0);
  for (int64_t axis = -3; axis < 3; ++axis) {
    Tensor y = run_single({OpKind::Softmax, {x}, axis_attr(axis)});
    const std::vector<double> v = values_of(y);
    const int64_t a = axis < 0 ? axis + 3 : axis;
    const int64_t len = shape[static_cast<size_t>(a)];
    int64_t inner = 1;
    for (int64_t d = a + 1; d < 3; ++d) inner *= shape[static_cast<size_t>(d)];
    for (int64_t start = 0; start < shape.numel(); ++start) {
      if ((start / inner) % len != 0) continue;  // only the first element of each row
      double sum = 0;
      for (int64_t l = 0; l < len; ++l) sum += v[static_cast<size_t>(start + l * inner)];
      EXPECT_NEAR(sum, 1.0, 1e-5) << "axis " << axis;
    }
  }
}

TEST(Softmax, StableForLargeInputs) {
  Tensor x = make_tensor(DType::kFloat32, {2}, {1000.0, 1000.0});
  Tensor y = run_single({OpKind::Softmax, {x}});
  EXPECT_EQ(values_of(y), (std::vector<double>{0.5, 0.5}));
}

TEST(Softmax, LogSoftmaxIsLogOfSoftmax) {
  for (DType dtype : {DType::kFloat32, DType::kFloat64, DType::kFloat16}) {
    Tensor x = random_tensor(dtype, {6, 7}, 72, -5.0, 5.0);
    std::vector<double> s = values_of(run_single({OpKind::Softmax, {x}, axis_attr(0)}));
    Tensor log_s = run_single({OpKind::LogSoftmax, {x}, axis_attr(0)});
    for (double& v : s) v = std::log(v);
    EXPECT_LE(max_relative_error(log_s, make_tensor(dtype, {6, 7}, s), 1e-2), dtype == DType::kFloat16 ? 1e-2 : 1e-5)
        << dtype_name(dtype);
  }
}

TEST(Softmax, HardmaxMarksFirstMaximum) {
  Tensor x = make_tensor(DType::kFloat32, {2, 3}, {1, 3, 3, -1, -2, -3});
  Tensor y = run_single({OpKind::Hardmax, {x}});
  EXPECT_EQ(values_of(y), (std::vector<double>{0, 1, 0, 1, 0, 0}));
}

TEST(Softmax, BadAxisIsInvalidArgument) {
  auto result = run_op({OpKind::Softmax, {random_tensor(DType::kFloat32, {2, 3}, 1)}, axis_attr(2)});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kiln::testing
