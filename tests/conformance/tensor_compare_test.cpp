// The conformance verdicts are only as good as the comparison: these check that it rejects what
// ONNX's runner rejects (and accepts NaN == NaN).
#include "tensor_compare.h"

#include <cmath>
#include <limits>
#include <random>

#include <gtest/gtest.h>

namespace kiln::conformance {
namespace {

constexpr uint32_t kSeed = 20240611;

Tensor random_floats(const Shape& shape, std::mt19937& rng) {
  std::uniform_real_distribution<float> dist(-4.0F, 4.0F);
  Tensor t(DType::kFloat32, shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng);
  return t;
}

TEST(TensorCompare, AcceptsAnIdenticalCopy) {
  std::mt19937 rng(kSeed);
  Tensor expected = random_floats(Shape{3, 5}, rng);
  EXPECT_EQ(compare_tensors(expected, expected.clone(), Tolerance{}), std::nullopt);
}

TEST(TensorCompare, AcceptsDifferencesInsideRelativeTolerance) {
  std::mt19937 rng(kSeed);
  Tensor expected = random_floats(Shape{64}, rng);
  Tensor actual = expected.clone();
  const Tolerance tolerance;
  for (int64_t i = 0; i < actual.numel(); ++i) actual.data<float>()[i] *= static_cast<float>(1.0 + tolerance.relative / 2);
  EXPECT_EQ(compare_tensors(expected, actual, tolerance), std::nullopt);
}

TEST(TensorCompare, RejectsOneElementOutsideToleranceAndNamesIt) {
  std::mt19937 rng(kSeed);
  Tensor expected = random_floats(Shape{2, 3}, rng);
  Tensor actual = expected.clone();
  actual.data<float>()[4] += 1.0F;
  auto mismatch = compare_tensors(expected, actual, Tolerance{});
  ASSERT_TRUE(mismatch.has_value());
  EXPECT_NE(mismatch->find("1 of 6"), std::string::npos) << *mismatch;
  EXPECT_NE(mismatch->find("[1,1]"), std::string::npos) << *mismatch;
}

TEST(TensorCompare, NanMatchesOnlyNan) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Tensor expected = Tensor::from_vector<float>(DType::kFloat32, Shape{2}, {nan, 1.0F});
  EXPECT_EQ(compare_tensors(expected, expected.clone(), Tolerance{}), std::nullopt);
  Tensor actual = Tensor::from_vector<float>(DType::kFloat32, Shape{2}, {0.0F, 1.0F});
  EXPECT_TRUE(compare_tensors(expected, actual, Tolerance{}).has_value());
  EXPECT_TRUE(compare_tensors(actual, expected, Tolerance{}).has_value());
}

TEST(TensorCompare, InfinitiesMustBeEqual) {
  const float inf = std::numeric_limits<float>::infinity();
  Tensor expected = Tensor::from_vector<float>(DType::kFloat32, Shape{1}, {inf});
  EXPECT_EQ(compare_tensors(expected, expected.clone(), Tolerance{}), std::nullopt);
  Tensor negative = Tensor::from_vector<float>(DType::kFloat32, Shape{1}, {-inf});
  Tensor large = Tensor::from_vector<float>(DType::kFloat32, Shape{1}, {std::numeric_limits<float>::max()});
  EXPECT_TRUE(compare_tensors(expected, negative, Tolerance{}).has_value());
  EXPECT_TRUE(compare_tensors(expected, large, Tolerance{}).has_value());
}

TEST(TensorCompare, IntegersMustBeExact) {
  const int64_t big = (int64_t{1} << 60) + 1;
  Tensor expected = Tensor::from_vector<int64_t>(DType::kInt64, Shape{2}, {big, -3});
  EXPECT_EQ(compare_tensors(expected, expected.clone(), Tolerance{}), std::nullopt);
  // Equal after conversion to double, different as integers.
  Tensor actual = Tensor::from_vector<int64_t>(DType::kInt64, Shape{2}, {big - 1, -3});
  EXPECT_TRUE(compare_tensors(expected, actual, Tolerance{}).has_value());
}

TEST(TensorCompare, RejectsDtypeAndShapeDifferences) {
  Tensor expected = Tensor::from_vector<float>(DType::kFloat32, Shape{2, 2}, {1, 2, 3, 4});
  Tensor as_double = Tensor::from_vector<double>(DType::kFloat64, Shape{2, 2}, {1, 2, 3, 4});
  Tensor reshaped = Tensor::from_vector<float>(DType::kFloat32, Shape{4}, {1, 2, 3, 4});
  EXPECT_TRUE(compare_tensors(expected, as_double, Tolerance{}).has_value());
  EXPECT_TRUE(compare_tensors(expected, reshaped, Tolerance{}).has_value());
  EXPECT_TRUE(compare_tensors(expected, Tensor(), Tolerance{}).has_value());
}

TEST(TensorCompare, StringsMustBeEqual) {
  Tensor expected = Tensor::from_strings(Shape{2}, {"kiln", "onnx"});
  EXPECT_EQ(compare_tensors(expected, Tensor::from_strings(Shape{2}, {"kiln", "onnx"}), Tolerance{}), std::nullopt);
  EXPECT_TRUE(compare_tensors(expected, Tensor::from_strings(Shape{2}, {"kiln", "Onnx"}), Tolerance{}).has_value());
}

}  // namespace
}  // namespace kiln::conformance
