// Resize: structural properties on random inputs, plus small cases whose expected values were
// computed with the ONNX reference interpolation (onnx/backend/test/case/node/resize.py), an
// implementation independent of kiln's.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "op_test_util.h"

namespace kiln::testing {
namespace {

enum Input : size_t { kX = 0, kRoi = 1, kScales = 2, kSizes = 3 };

Tensor run_single(OpRun run) {
  auto result = run_op(run);
  EXPECT_TRUE(result.ok()) << result.status().to_string();
  return result.ok() ? (*result)[0] : Tensor();
}

Attributes resize_attrs(std::vector<std::pair<std::string, std::string>> strings, std::vector<std::pair<std::string, float>> floats = {}) {
  Attributes a;
  for (auto& [k, v] : strings) a.set(k, v);
  for (auto& [k, v] : floats) a.set(k, v);
  return a;
}

Tensor scales(std::vector<double> v) { return make_tensor(DType::kFloat32, {static_cast<int64_t>(v.size())}, v); }

Tensor one_to_sixteen() {
  std::vector<double> v(16);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(i + 1);
  return make_tensor(DType::kFloat32, {1, 1, 4, 4}, v);
}

void expect_near_all(const std::vector<double>& actual, const std::vector<double>& expected, double tol) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) EXPECT_NEAR(actual[i], expected[i], tol) << "element " << i;
}

TEST(Resize, NearestIntegerScaleRepeatsElements) {
  for (DType dtype : {DType::kFloat32, DType::kUInt8, DType::kFloat16}) {
    Tensor x = random_tensor(dtype, {1, 2, 3, 4}, 101, 0, 200);
    // scales as a constant: shape inference then knows the exact output shape.
    Tensor y = run_single({OpKind::Resize, {x, Tensor(), scales({1, 1, 2, 3})}, {}, 1, {kScales}});
    ASSERT_EQ(y.shape(), (Shape{1, 2, 6, 12}));
    const std::vector<double> xv = values_of(x), yv = values_of(y);
    for (int64_t c = 0; c < 2; ++c)
      for (int64_t h = 0; h < 6; ++h)
        for (int64_t w = 0; w < 12; ++w)
          EXPECT_EQ(yv[static_cast<size_t>((c * 6 + h) * 12 + w)], xv[static_cast<size_t>((c * 3 + h / 2) * 4 + w / 3)]);
  }
}

TEST(Resize, LinearAlignCornersPreservesCorners) {
  Tensor x = random_tensor(DType::kFloat32, {2, 3, 5}, 102);
  Tensor sizes = make_int64({3}, {2, 7, 11});
  Tensor y = run_single({OpKind::Resize, {x, Tensor(), Tensor(), sizes},
                         resize_attrs({{"mode", "linear"}, {"coordinate_transformation_mode", "align_corners"}}), 1, {kSizes}});
  ASSERT_EQ(y.shape(), (Shape{2, 7, 11}));
  const std::vector<double> xv = values_of(x), yv = values_of(y);
  for (int64_t n = 0; n < 2; ++n) {
    EXPECT_NEAR(yv[static_cast<size_t>(n * 77)], xv[static_cast<size_t>(n * 15)], 1e-6);
    EXPECT_NEAR(yv[static_cast<size_t>(n * 77 + 10)], xv[static_cast<size_t>(n * 15 + 4)], 1e-6);
    EXPECT_NEAR(yv[static_cast<size_t>(n * 77 + 66)], xv[static_cast<size_t>(n * 15 + 10)], 1e-6);
    EXPECT_NEAR(yv[static_cast<size_t>(n * 77 + 76)], xv[static_cast<size_t>(n * 15 + 14)], 1e-6);
  }
}

TEST(Resize, AlignCornersWithScalesUsesTheUnroundedLength) {
  // in 5, scale 0.5: the output has floor(2.5) = 2 elements, but align_corners maps with the
  // unrounded resized length 2.5 (as ONNX's reference does): x_original(1) = 1 * 4 / 1.5 = 8/3.
  // On linear data, linear interpolation and cubic with coefficient -0.5 (which reproduces
  // linear functions; neighbours 1..4 are all inside) both give 80/3.
  Tensor x = make_tensor(DType::kFloat32, {5}, {0, 10, 20, 30, 40});
  for (const char* mode : {"linear", "cubic"}) {
    Tensor y = run_single({OpKind::Resize, {x, Tensor(), scales({0.5})},
                           resize_attrs({{"mode", mode}, {"coordinate_transformation_mode", "align_corners"}},
                                        {{"cubic_coeff_a", -0.5f}}),
                           1, {kScales}});
    ASSERT_EQ(y.shape(), (Shape{2})) << mode;
    expect_near_all(values_of(y), {0, 80.0 / 3.0}, 1e-4);
  }
}

TEST(Resize, LinearHalfPixelOneDimension) {
  Tensor x = make_tensor(DType::kFloat32, {2}, {1, 2});
  Tensor y = run_single({OpKind::Resize, {x, Tensor(), scales({2})}, resize_attrs({{"mode", "linear"}}), 1, {kScales}});
  // x_original = (x + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25; clamped at the edges.
  expect_near_all(values_of(y), {1, 1.25, 1.75, 2}, 1e-6);
}

TEST(Resize, CubicMatchesOnnxReference) {
  Tensor y = run_single({OpKind::Resize, {one_to_sixteen(), Tensor(), scales({1, 1, 2, 2})},
                         resize_attrs({{"mode", "cubic"}}), 1, {kScales}});
  ASSERT_EQ(y.shape(), (Shape{1, 1, 8, 8}));
  const std::vector<double> v = values_of(y);
  expect_near_all(std::vector<double>(v.begin(), v.begin() + 8),
                  {0.47265625, 0.76953125, 1.24609375, 1.875, 2.28125, 2.91015625, 3.38671875, 3.68359375}, 1e-5);
  expect_near_all(std::vector<double>(v.end() - 8, v.end()),
                  {13.31640625, 13.61328125, 14.08984375, 14.71875, 15.125, 15.75390625, 16.23046875, 16.52734375}, 1e-5);
}

TEST(Resize, CubicExcludeOutsideMatchesOnnxReference) {
  Tensor y = run_single({OpKind::Resize, {one_to_sixteen(), Tensor(), scales({1, 1, 0.8, 0.8})},
                         [] {
                           Attributes a = resize_attrs({{"mode", "cubic"}}, {{"cubic_coeff_a", -0.5f}});
                           a.set("exclude_outside", int64_t{1});
                           return a;
                         }(),
                         1, {kScales}});
  expect_near_all(values_of(y), {1.3681267160435837, 2.6695013448951905, 4.0133366320977695, 6.57362523145001,
                                 7.874999860301617, 9.218835147504198, 11.948966380260327, 13.250341009111931,
                                 14.594176296314512}, 1e-4);
}

TEST(Resize, TfCropAndResizeUsesRoiAndExtrapolation) {
  Tensor roi = make_tensor(DType::kFloat32, {8}, {0, 0, 0.4, 0.6, 1, 1, 1.2, 1.7});
  Tensor sizes = make_int64({4}, {1, 1, 3, 3});
  Tensor y = run_single({OpKind::Resize, {one_to_sixteen(), roi, Tensor(), sizes},
                         resize_attrs({{"mode", "linear"}, {"coordinate_transformation_mode", "tf_crop_and_resize"}},
                                      {{"extrapolation_value", 10.0f}}),
                         1, {kRoi, kSizes}});
  expect_near_all(values_of(y), {7.6, 10, 10, 12.4, 10, 10, 10, 10, 10}, 1e-5);
}

TEST(Resize, NearestModesMatchOnnxReference) {
  Tensor sizes = make_int64({4}, {1, 1, 8, 8});
  Tensor ceil = run_single({OpKind::Resize, {one_to_sixteen(), Tensor(), Tensor(), sizes},
                            resize_attrs({{"coordinate_transformation_mode", "asymmetric"}, {"nearest_mode", "ceil"}}), 1, {kSizes}});
  const std::vector<double> expected_ceil_row0 = {1, 2, 2, 3, 3, 4, 4, 4};
  const std::vector<double> cv = values_of(ceil);
  expect_near_all(std::vector<double>(cv.begin(), cv.begin() + 8), expected_ceil_row0, 0);
  expect_near_all(std::vector<double>(cv.end() - 8, cv.end()), {13, 14, 14, 15, 15, 16, 16, 16}, 0);

  Tensor prefer_ceil = run_single({OpKind::Resize, {one_to_sixteen(), Tensor(), Tensor(), sizes},
                                   resize_attrs({{"nearest_mode", "round_prefer_ceil"}}), 1, {kSizes}});
  const std::vector<double> pv = values_of(prefer_ceil);
  expect_near_all(std::vector<double>(pv.begin(), pv.begin() + 8), {1, 1, 2, 2, 3, 3, 4, 4}, 0);
}

TEST(Resize, PytorchHalfPixelDownsample) {
  Tensor sizes = make_int64({4}, {1, 1, 3, 1});
  Tensor y = run_single({OpKind::Resize, {one_to_sixteen(), Tensor(), Tensor(), sizes},
                         resize_attrs({{"mode", "linear"}, {"coordinate_transformation_mode", "pytorch_half_pixel"}}), 1,
                         {kSizes}});
  expect_near_all(values_of(y), {1.6666666666666665, 7.0, 12.333333333333334}, 1e-5);
}

TEST(Resize, NonConstantScalesGiveUnknownDimsButRun) {
  Tensor x = random_tensor(DType::kFloat32, {1, 1, 2, 2}, 103);
  Tensor y = run_single({OpKind::Resize, {x, Tensor(), scales({1, 1, 1.5, 2})}, resize_attrs({{"mode", "linear"}})});
  EXPECT_EQ(y.shape(), (Shape{1, 1, 3, 4}));
}

TEST(Resize, ScalesAndSizesTogetherAreInvalidArgument) {
  Tensor x = random_tensor(DType::kFloat32, {1, 1, 2, 2}, 104);
  auto both = run_op({OpKind::Resize, {x, Tensor(), scales({1, 1, 2, 2}), make_int64({4}, {1, 1, 4, 4})}, {}, 1, {kScales, kSizes}});
  ASSERT_FALSE(both.ok());
  EXPECT_EQ(both.status().code(), StatusCode::kInvalidArgument);
  auto both_runtime = run_op({OpKind::Resize, {x, Tensor(), scales({1, 1, 2, 2}), make_int64({4}, {1, 1, 4, 4})}});
  ASSERT_FALSE(both_runtime.ok());
  EXPECT_EQ(both_runtime.status().code(), StatusCode::kInvalidArgument);
  auto neither = run_op({OpKind::Resize, {x}});
  ASSERT_FALSE(neither.ok());
  EXPECT_EQ(neither.status().code(), StatusCode::kInvalidArgument);
  auto bad_mode = run_op({OpKind::Resize, {x, Tensor(), scales({1, 1, 2, 2})}, resize_attrs({{"mode", "bilinear"}})});
  ASSERT_FALSE(bad_mode.ok());
  EXPECT_EQ(bad_mode.status().code(), StatusCode::kInvalidArgument);
}

TEST(Resize, EmptyScalesMeansAbsent) {
  Tensor x = random_tensor(DType::kFloat32, {1, 1, 2, 2}, 105);
  Tensor empty_scales = make_tensor(DType::kFloat32, {0}, {});
  Tensor y = run_single({OpKind::Resize, {x, Tensor(), empty_scales, make_int64({4}, {1, 1, 4, 6})}, {}, 1, {kScales, kSizes}});
  EXPECT_EQ(y.shape(), (Shape{1, 1, 4, 6}));
}

}  // namespace
}  // namespace kiln::testing
