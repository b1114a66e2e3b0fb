// Activations: attribute defaults from the ONNX spec, edge cases, and formula checks on random
// inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numbers>

#include "elementwise_test_helpers.h"

namespace kiln::testing::elementwise {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

Tensor sample() { return make_tensor(DType::kFloat64, {6}, {-3.0, -1.0, -0.25, 0.0, 0.5, 2.0}); }

TEST(ElementwiseActivation, SigmoidMatchesFormulaAndSaturates) {
  Tensor x = random_tensor(DType::kFloat32, {4, 8}, 21, -8, 8);
  expect_values(run_ok(OpKind::Sigmoid, {x}), apply(x, [](double v) { return 1.0 / (1.0 + std::exp(-v)); }), 1e-6);
  expect_values(run_ok(OpKind::Sigmoid, {make_tensor(DType::kFloat64, {2}, {-1000.0, 1000.0})}), {0.0, 1.0});
}

TEST(ElementwiseActivation, HardSigmoidAndHardSwishDefaults) {
  // alpha = 0.2, beta = 0.5
  expect_values(run_ok(OpKind::HardSigmoid, {sample()}), {0.0, 0.3, 0.45, 0.5, 0.6, 0.9}, 1e-7);
  Attributes attrs;
  attrs.set("alpha", 0.5f);
  attrs.set("beta", 0.25f);
  expect_values(run_ok(OpKind::HardSigmoid, {sample()}, attrs), {0.0, 0.0, 0.125, 0.25, 0.5, 1.0}, 1e-7);
  // x * clamp(x/6 + 1/2, 0, 1)
  expect_values(run_ok(OpKind::HardSwish, {make_tensor(DType::kFloat64, {4}, {-4.0, -1.0, 1.0, 4.0})}),
                {0.0, -1.0 / 3.0, 2.0 / 3.0, 4.0}, 1e-12);
}

TEST(ElementwiseActivation, ReluAndLeakyRelu) {
  expect_values(run_ok(OpKind::Relu, {sample()}), {0, 0, 0, 0, 0.5, 2.0});
  expect_values(run_ok(OpKind::Relu, {make_tensor(DType::kInt32, {3}, {-7, 0, 7})}), {0, 0, 7});
  expect_values(run_ok(OpKind::LeakyRelu, {sample()}), {-0.03, -0.01, -0.0025, 0.0, 0.5, 2.0}, 1e-7);
  Attributes attrs;
  attrs.set("alpha", 0.5f);
  expect_values(run_ok(OpKind::LeakyRelu, {sample()}, attrs), {-1.5, -0.5, -0.125, 0.0, 0.5, 2.0});
}

TEST(ElementwiseActivation, PReluSlopeBroadcastsToX) {
  Tensor x = make_tensor(DType::kFloat32, {1, 2, 1, 2}, {-1, 2, -3, 4});
  Tensor slope = make_tensor(DType::kFloat32, {2, 1, 1}, {0.1, 0.5});
  expect_values(run_ok(OpKind::PRelu, {x, slope}), {-0.1, 2.0, -1.5, 4.0});
  Tensor scalar_slope = make_tensor(DType::kFloat32, {}, {0.25});
  expect_values(run_ok(OpKind::PRelu, {x, scalar_slope}), {-0.25, 2.0, -0.75, 4.0});
  expect_values(run_ok(OpKind::PRelu, {make_tensor(DType::kInt64, {2}, {-4, 4}), make_tensor(DType::kInt64, {1}, {3})}),
                {-12, 4});
  // The slope must broadcast to X, not the other way round.
  Tensor big_slope = make_tensor(DType::kFloat32, {2, 1, 2, 2}, {1, 1, 1, 1, 1, 1, 1, 1});
  EXPECT_EQ(run_status(OpKind::PRelu, {x, big_slope}).code(), StatusCode::kInvalidArgument);
}

TEST(ElementwiseActivation, EluSeluCeluThresholdedReluDefaults) {
  Tensor x = sample();
  expect_values(run_ok(OpKind::Elu, {x}), apply(x, [](double v) { return v < 0 ? std::exp(v) - 1.0 : v; }), 1e-12);
  const double alpha = 1.67326319217681884765625, gamma = 1.05070102214813232421875;
  expect_values(run_ok(OpKind::Selu, {x}),
                apply(x, [&](double v) { return v > 0 ? gamma * v : gamma * (alpha * std::exp(v) - alpha); }), 1e-7);
  Attributes celu;
  celu.set("alpha", 2.0f);
  expect_values(run_ok(OpKind::Celu, {x}, celu),
                apply(x, [](double v) { return v > 0 ? v : 2.0 * (std::exp(v / 2.0) - 1.0); }), 1e-12);
  // Default alpha 1 makes Celu equal to Elu.
  expect_values(run_ok(OpKind::Celu, {x}), apply(x, [](double v) { return v < 0 ? std::exp(v) - 1.0 : v; }), 1e-12);
  // Default alpha 1.0: strictly greater passes.
  expect_values(run_ok(OpKind::ThresholdedRelu, {make_tensor(DType::kFloat32, {3}, {1.0, 1.5, -2.0})}), {0.0, 1.5, 0.0});
}

TEST(ElementwiseActivation, SoftplusSoftsignMishAreStable) {
  Tensor x = random_tensor(DType::kFloat64, {16}, 31, -10, 10);
  expect_values(run_ok(OpKind::Softplus, {x}), apply(x, [](double v) { return std::log(std::exp(v) + 1.0); }), 1e-12);
  expect_values(run_ok(OpKind::Softsign, {x}), apply(x, [](double v) { return v / (1.0 + std::fabs(v)); }), 1e-12);
  expect_values(run_ok(OpKind::Mish, {x}),
                apply(x, [](double v) { return v * std::tanh(std::log(1.0 + std::exp(v))); }), 1e-12);
  // exp(1000) overflows; a naive log(exp(x) + 1) would return inf.
  expect_values(run_ok(OpKind::Softplus, {make_tensor(DType::kFloat64, {2}, {1000.0, -1000.0})}), {1000.0, 0.0});
}

TEST(ElementwiseActivation, GeluExactAndTanhApproximation) {
  Tensor x = random_tensor(DType::kFloat32, {3, 5}, 41, -4, 4);
  expect_values(run_ok(OpKind::Gelu, {x}),
                apply(x, [](double v) { return v * 0.5 * std::erfc(-v / std::sqrt(2.0)); }), 1e-6);
  Attributes tanh_attr;
  tanh_attr.set("approximate", std::string("tanh"));
  const double k = std::sqrt(2.0 / std::numbers::pi);
  expect_values(run_ok(OpKind::Gelu, {x}, tanh_attr),
                apply(x, [&](double v) { return 0.5 * v * (1.0 + std::tanh(k * (v + 0.044715 * std::pow(v, 3)))); }),
                1e-6);
  Attributes bad;
  bad.set("approximate", std::string("fast"));
  EXPECT_EQ(run_status(OpKind::Gelu, {x}, bad).code(), StatusCode::kInvalidArgument);
}

TEST(ElementwiseActivation, ShrinkDefaultsAndBias) {
  // lambd = 0.5, bias = 0
  expect_values(run_ok(OpKind::Shrink, {sample()}), {-3.0, -1.0, 0.0, 0.0, 0.0, 2.0});
  Attributes attrs;
  attrs.set("lambd", 1.5f);
  attrs.set("bias", 1.5f);
  expect_values(run_ok(OpKind::Shrink, {sample()}, attrs), {-1.5, 0.0, 0.0, 0.0, 0.0, 0.5});
  expect_values(run_ok(OpKind::Shrink, {make_tensor(DType::kInt8, {3}, {-3, 0, 3})}, attrs), {-1, 0, 1});
}

TEST(ElementwiseActivation, ClipWithAbsentAndPresentBounds) {
  Tensor x = make_tensor(DType::kFloat32, {5}, {-5.0, -1.0, 0.0, 1.0, kNaN});
  Tensor lo = make_tensor(DType::kFloat32, {}, {-2.0});
  Tensor hi = make_tensor(DType::kFloat32, {}, {0.5});
  expect_values(run_ok(OpKind::Clip, {x}), {-5.0, -1.0, 0.0, 1.0, kNaN});
  expect_values(run_ok(OpKind::Clip, {x, lo}), {-2.0, -1.0, 0.0, 1.0, kNaN});
  expect_values(run_ok(OpKind::Clip, {x, Tensor(), hi}), {-5.0, -1.0, 0.0, 0.5, kNaN});
  expect_values(run_ok(OpKind::Clip, {x, lo, hi}), {-2.0, -1.0, 0.0, 0.5, kNaN});
  // min > max: everything becomes max.
  expect_values(run_ok(OpKind::Clip, {x, make_tensor(DType::kFloat32, {}, {3.0}), hi}), {0.5, 0.5, 0.5, 0.5, kNaN});
  Tensor xi = make_tensor(DType::kInt64, {4}, {-9, -1, 3, 9});
  expect_values(run_ok(OpKind::Clip, {xi, make_int64({}, {-2}), make_int64({}, {4})}), {-2, -1, 3, 4});
  EXPECT_FALSE(run_status(OpKind::Clip, {x, make_tensor(DType::kFloat32, {2}, {0.0, 1.0})}).ok());
  EXPECT_FALSE(run_status(OpKind::Clip, {x, make_int64({}, {0})}).ok());
}

TEST(ElementwiseActivation, NarrowFloatsKeepTheirDtype) {
  for (DType dt : {DType::kFloat16, DType::kBFloat16}) {
    Tensor x = make_tensor(dt, {3}, {-1.0, 0.0, 2.0});
    Tensor y = run_ok(OpKind::Relu, {x});
    ASSERT_EQ(y.dtype(), dt);
    expect_values(y, {0.0, 0.0, 2.0});
    expect_values(run_ok(OpKind::Sigmoid, {x}), {1.0 / (1.0 + std::exp(1.0)), 0.5, 1.0 / (1.0 + std::exp(-2.0))}, 1e-2);
  }
}

}  // namespace
}  // namespace kiln::testing::elementwise
