// Normalization ops against their formulas (computed here in double), plus bad inputs.
#include <gtest/gtest.h>

#include <cmath>

#include "nn_test_helpers.h"

namespace kiln::testing {
namespace {

TEST(NormBatch, MatchesInferenceFormula) {
  const int64_t n = 2, c = 3, plane = 20;
  Tensor x = random_tensor(DType::kFloat32, Shape{n, c, 4, 5}, 1, -3, 3);
  Tensor scale = random_tensor(DType::kFloat32, Shape{c}, 2);
  Tensor bias = random_tensor(DType::kFloat32, Shape{c}, 3);
  Tensor mean = random_tensor(DType::kFloat32, Shape{c}, 4);
  Tensor var = random_tensor(DType::kFloat32, Shape{c}, 5, 0.1, 2.0);
  const double eps = 1e-3;
  Attributes attrs;
  attrs.set("epsilon", static_cast<float>(eps));
  auto r = run_op({OpKind::BatchNormalization, {x, scale, bias, mean, var}, attrs, 1, {1, 2, 3, 4}});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const auto xv = values_of(x), sv = values_of(scale), bv = values_of(bias), mv = values_of(mean), vv = values_of(var);
  std::vector<double> expected;
  for (int64_t i = 0; i < n * c * plane; ++i) {
    const auto ch = static_cast<size_t>((i / plane) % c);
    expected.push_back(sv[ch] * (xv[static_cast<size_t>(i)] - mv[ch]) / std::sqrt(vv[ch] + static_cast<double>(static_cast<float>(eps))) + bv[ch]);
  }
  EXPECT_LE(max_relative_error((*r)[0], make_tensor(DType::kFloat32, x.shape(), expected), 1e-3), 1e-5);
}

TEST(NormBatch, HalfPrecisionAndErrors) {
  Tensor x = random_tensor(DType::kFloat16, Shape{1, 2, 3}, 6);
  Tensor p = random_tensor(DType::kFloat16, Shape{2}, 7, 0.5, 1.0);
  auto r = run_op({OpKind::BatchNormalization, {x, p, p, p, p}, {}, 1, {1, 2, 3, 4}});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ((*r)[0].dtype(), DType::kFloat16);
  // Per-channel parameters of the wrong length, and running statistics outputs without training_mode.
  Tensor wrong = random_tensor(DType::kFloat16, Shape{3}, 8);
  EXPECT_FALSE(run_op({OpKind::BatchNormalization, {x, wrong, p, p, p}, {}, 1, {1, 2, 3, 4}}).ok());
  EXPECT_FALSE(run_op({OpKind::BatchNormalization, {x, p, p, p, p}, {}, 3, {1, 2, 3, 4}}).ok());
}

TEST(NormBatch, TrainingModeUsesBatchStatistics) {
  const int64_t n = 3, c = 2, plane = 12;
  Tensor x = random_tensor(DType::kFloat32, Shape{n, c, 3, 4}, 31, -2, 4);
  Tensor scale = random_tensor(DType::kFloat32, Shape{c}, 32);
  Tensor bias = random_tensor(DType::kFloat32, Shape{c}, 33);
  Tensor mean = random_tensor(DType::kFloat32, Shape{c}, 34);
  Tensor var = random_tensor(DType::kFloat32, Shape{c}, 35, 0.1, 2.0);
  const float momentum = 0.8f, eps = 1e-2f;
  Attributes attrs;
  attrs.set("training_mode", int64_t{1});
  attrs.set("momentum", momentum);
  attrs.set("epsilon", eps);
  auto r = run_op({OpKind::BatchNormalization, {x, scale, bias, mean, var}, attrs, 3, {1, 2, 3, 4}});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  ASSERT_EQ(r->size(), 3u);
  const auto xv = values_of(x), sv = values_of(scale), bv = values_of(bias), mv = values_of(mean), vv = values_of(var);
  std::vector<double> expected_y(xv.size()), running_mean, running_var;
  for (int64_t ch = 0; ch < c; ++ch) {
    std::vector<double> values;
    for (int64_t b = 0; b < n; ++b)
      for (int64_t i = 0; i < plane; ++i) values.push_back(xv[static_cast<size_t>((b * c + ch) * plane + i)]);
    double sum = 0.0, squares = 0.0;
    for (double v : values) sum += v;
    const double batch_mean = sum / static_cast<double>(values.size());
    for (double v : values) squares += (v - batch_mean) * (v - batch_mean);
    const double batch_var = squares / static_cast<double>(values.size());  // population variance
    const auto k = static_cast<size_t>(ch);
    running_mean.push_back(mv[k] * momentum + batch_mean * (1.0 - momentum));
    running_var.push_back(vv[k] * momentum + batch_var * (1.0 - momentum));
    for (int64_t b = 0; b < n; ++b)
      for (int64_t i = 0; i < plane; ++i) {
        const auto at = static_cast<size_t>((b * c + ch) * plane + i);
        expected_y[at] = sv[k] * (xv[at] - batch_mean) / std::sqrt(batch_var + static_cast<double>(eps)) + bv[k];
      }
  }
  EXPECT_LE(max_relative_error((*r)[0], make_tensor(DType::kFloat32, x.shape(), expected_y), 1e-3), 1e-5);
  EXPECT_LE(max_relative_error((*r)[1], make_tensor(DType::kFloat32, Shape{c}, running_mean), 1e-3), 1e-5);
  EXPECT_LE(max_relative_error((*r)[2], make_tensor(DType::kFloat32, Shape{c}, running_var), 1e-3), 1e-5);
}

TEST(NormInstance, NormalizesEachPlane) {
  Tensor x = random_tensor(DType::kFloat32, Shape{2, 3, 5}, 10, -2, 4);
  Tensor scale = random_tensor(DType::kFloat32, Shape{3}, 11);
  Tensor bias = random_tensor(DType::kFloat32, Shape{3}, 12);
  auto r = run_op({OpKind::InstanceNormalization, {x, scale, bias}, {}, 1, {1, 2}});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const auto xv = values_of(x), sv = values_of(scale), bv = values_of(bias);
  std::vector<double> expected;
  for (size_t plane = 0; plane < 6; ++plane) {
    double m = 0, v = 0;
    for (size_t i = 0; i < 5; ++i) m += xv[plane * 5 + i] / 5;
    for (size_t i = 0; i < 5; ++i) v += (xv[plane * 5 + i] - m) * (xv[plane * 5 + i] - m) / 5;
    for (size_t i = 0; i < 5; ++i)
      expected.push_back(sv[plane % 3] * (xv[plane * 5 + i] - m) / std::sqrt(v + 1e-5) + bv[plane % 3]);
  }
  EXPECT_LE(max_relative_error((*r)[0], make_tensor(DType::kFloat32, x.shape(), expected), 1e-3), 1e-5);
}

TEST(NormLayer, LastAxesWithStatisticsOutputs) {
  for (int64_t axis : {int64_t{-1}, int64_t{1}}) {
    Tensor x = random_tensor(DType::kFloat32, Shape{2, 3, 4}, 20 + static_cast<uint64_t>(axis + 1), -3, 5);
    const Shape norm_shape = axis == -1 ? Shape{4} : Shape{3, 4};
    const size_t inner = axis == -1 ? 4 : 12;
    Tensor scale = random_tensor(DType::kFloat32, norm_shape, 30);
    Tensor bias = random_tensor(DType::kFloat32, norm_shape, 31);
    Attributes attrs;
    attrs.set("axis", axis);
    attrs.set("epsilon", 1e-4f);
    auto r = run_op({OpKind::LayerNormalization, {x, scale, bias}, attrs, 3, {1, 2}});
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    const auto xv = values_of(x), sv = values_of(scale), bv = values_of(bias);
    std::vector<double> expected, means, inv_stds;
    for (size_t o = 0; o < xv.size() / inner; ++o) {
      double m = 0, v = 0;
      for (size_t i = 0; i < inner; ++i) m += xv[o * inner + i] / static_cast<double>(inner);
      for (size_t i = 0; i < inner; ++i) v += std::pow(xv[o * inner + i] - m, 2) / static_cast<double>(inner);
      const double inv = 1.0 / std::sqrt(v + static_cast<double>(1e-4f));
      for (size_t i = 0; i < inner; ++i) expected.push_back((xv[o * inner + i] - m) * inv * sv[i] + bv[i]);
      means.push_back(m);
      inv_stds.push_back(inv);
    }
    EXPECT_LE(max_relative_error((*r)[0], make_tensor(DType::kFloat32, x.shape(), expected), 1e-3), 1e-5);
    const Shape stat_shape = axis == -1 ? Shape{2, 3, 1} : Shape{2, 1, 1};
    EXPECT_EQ((*r)[1].shape(), stat_shape);
    EXPECT_LE(max_relative_error((*r)[1], make_tensor(DType::kFloat32, stat_shape, means), 1e-3), 1e-5);
    EXPECT_LE(max_relative_error((*r)[2], make_tensor(DType::kFloat32, stat_shape, inv_stds), 1e-3), 1e-5);
  }
}

TEST(NormLayer, WithoutBiasInBFloat16AndErrors) {
  Tensor x = random_tensor(DType::kBFloat16, Shape{3, 8}, 40);
  Tensor scale = make_tensor(DType::kBFloat16, Shape{8}, std::vector<double>(8, 1.0));
  auto r = run_op({OpKind::LayerNormalization, {x, scale}, {}, 1, {1}});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const auto y = values_of((*r)[0]);
  for (size_t row = 0; row < 3; ++row) {
    double m = 0;
    for (size_t i = 0; i < 8; ++i) m += y[row * 8 + i] / 8;
    EXPECT_NEAR(m, 0.0, 5e-2);
  }
  Attributes bad_axis;
  bad_axis.set("axis", int64_t{2});
  EXPECT_FALSE(run_op({OpKind::LayerNormalization, {x, scale}, bad_axis, 1, {1}}).ok());
  EXPECT_FALSE(run_op({OpKind::LayerNormalization, {x, random_tensor(DType::kBFloat16, Shape{5}, 41)}, {}, 1, {1}}).ok());
}

TEST(NormLp, RowsHaveUnitNorm) {
  Tensor x = random_tensor(DType::kFloat32, Shape{3, 4, 2}, 50);
  for (int64_t p : {int64_t{1}, int64_t{2}}) {
    Attributes attrs;
    attrs.set("axis", int64_t{1});
    attrs.set("p", p);
    auto r = run_op({OpKind::LpNormalization, {x}, attrs});
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    const auto y = values_of((*r)[0]);
    for (size_t o = 0; o < 3; ++o)
      for (size_t i = 0; i < 2; ++i) {
        double norm = 0;
        for (size_t k = 0; k < 4; ++k) norm += p == 1 ? std::fabs(y[(o * 4 + k) * 2 + i]) : std::pow(y[(o * 4 + k) * 2 + i], 2);
        EXPECT_NEAR(p == 1 ? norm : std::sqrt(norm), 1.0, 1e-5);
      }
  }
}

TEST(NormLrn, MatchesChannelWindowFormula) {
  Tensor x = random_tensor(DType::kFloat32, Shape{1, 5, 2, 2}, 60);
  Attributes attrs;
  attrs.set("size", int64_t{3});
  attrs.set("alpha", 0.5f);
  attrs.set("beta", 0.75f);
  attrs.set("bias", 2.0f);
  auto r = run_op({OpKind::LRN, {x}, attrs});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const auto xv = values_of(x);
  std::vector<double> expected;
  for (int64_t c = 0; c < 5; ++c)
    for (int64_t i = 0; i < 4; ++i) {
      double sq = 0;
      for (int64_t k = std::max<int64_t>(0, c - 1); k <= std::min<int64_t>(4, c + 1); ++k) sq += std::pow(xv[static_cast<size_t>(k * 4 + i)], 2);
      expected.push_back(xv[static_cast<size_t>(c * 4 + i)] / std::pow(2.0 + 0.5 / 3.0 * sq, 0.75));
    }
  EXPECT_LE(max_relative_error((*r)[0], make_tensor(DType::kFloat32, x.shape(), expected), 1e-3), 1e-5);
  EXPECT_FALSE(run_op({OpKind::LRN, {x}, {}}).ok());  // size is required
}

TEST(NormMvn, ZeroMeanUnitVariancePerChannel) {
  Tensor x = random_tensor(DType::kFloat32, Shape{2, 3, 2, 2}, 70, -4, 6);
  auto r = run_op({OpKind::MeanVarianceNormalization, {x}});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const auto y = values_of((*r)[0]);
  for (size_t c = 0; c < 3; ++c) {
    double m = 0, v = 0;
    for (size_t n = 0; n < 2; ++n)
      for (size_t i = 0; i < 4; ++i) m += y[(n * 3 + c) * 4 + i] / 8;
    for (size_t n = 0; n < 2; ++n)
      for (size_t i = 0; i < 4; ++i) v += std::pow(y[(n * 3 + c) * 4 + i] - m, 2) / 8;
    EXPECT_NEAR(m, 0.0, 1e-5);
    EXPECT_NEAR(v, 1.0, 1e-4);
  }
}

}  // namespace
}  // namespace kiln::testing
