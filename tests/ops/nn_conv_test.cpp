// Conv through the reference backend: hand-computed cases per attribute, random cross-checks
// against a gather-style oracle written from the ONNX definition, grouped conv as a concat of
// per-group convs, other dtypes against float64, and bad inputs.
#include <gtest/gtest.h>

#include "nn_test_helpers.h"

namespace kiln::testing {
namespace {

using nn::Padding;

struct ConvCase {
  std::string name;
  std::vector<int64_t> x_shape;  // N, C, spatial...
  int64_t out_channels = 1;
  std::vector<int64_t> kernel;
  int64_t group = 1;
  std::vector<int64_t> strides;    // empty: ones
  std::vector<int64_t> dilations;  // empty: ones
  std::vector<int64_t> pads;       // empty: zeros
  std::string auto_pad = "NOTSET";
  bool bias = false;
};

Attributes conv_attrs(const ConvCase& c) {
  Attributes attrs;
  if (c.group != 1) attrs.set("group", c.group);
  if (!c.strides.empty()) attrs.set("strides", c.strides);
  if (!c.dilations.empty()) attrs.set("dilations", c.dilations);
  if (!c.pads.empty()) attrs.set("pads", c.pads);
  if (c.auto_pad != "NOTSET") attrs.set("auto_pad", c.auto_pad);
  return attrs;
}

// y[n, m, o] = b[m] + sum_{c in group(m), k} w[m, c, k] * x[n, g*Cg + c, o * s + k * d - pad_begin],
// visiting one output element at a time.
Tensor conv_oracle(const ConvCase& c, const Tensor& x, const Tensor& w, const Tensor* b) {
  const size_t spatial = c.kernel.size();
  std::vector<int64_t> strides = c.strides.empty() ? std::vector<int64_t>(spatial, 1) : c.strides;
  std::vector<int64_t> dilations = c.dilations.empty() ? std::vector<int64_t>(spatial, 1) : c.dilations;
  std::vector<int64_t> in(c.x_shape.begin() + 2, c.x_shape.end());
  Padding pad = nn::forward_padding(c.auto_pad, c.pads, in, c.kernel, strides, dilations);
  std::vector<int64_t> out_dims = {c.x_shape[0], c.out_channels};
  for (size_t a = 0; a < spatial; ++a) out_dims.push_back(nn::forward_output(in[a], pad, a, c.kernel[a], strides[a], dilations[a]));
  const std::vector<double> xv = values_of(x), wv = values_of(w);
  const std::vector<double> bv = b ? values_of(*b) : std::vector<double>();
  const int64_t cin_per_group = c.x_shape[1] / c.group, m_per_group = c.out_channels / c.group;
  std::vector<int64_t> w_dims = {c.out_channels, cin_per_group};
  w_dims.insert(w_dims.end(), c.kernel.begin(), c.kernel.end());
  std::vector<double> y;
  std::vector<int64_t> o(out_dims.size(), 0);
  do {
    const int64_t n = o[0], m = o[1];
    double sum = b ? bv[static_cast<size_t>(m)] : 0.0;
    for (int64_t ci = 0; ci < cin_per_group; ++ci) {
      std::vector<int64_t> k(spatial, 0);
      do {
        std::vector<int64_t> xi = {n, (m / m_per_group) * cin_per_group + ci};
        bool inside = true;
        for (size_t a = 0; a < spatial; ++a) {
          const int64_t i = o[a + 2] * strides[a] + k[a] * dilations[a] - pad.begin[a];
          inside = inside && i >= 0 && i < in[a];
          xi.push_back(i);
        }
        if (!inside) continue;
        std::vector<int64_t> wi = {m, ci};
        wi.insert(wi.end(), k.begin(), k.end());
        sum += wv[static_cast<size_t>(nn::flat_index(w_dims, wi))] * xv[static_cast<size_t>(nn::flat_index(c.x_shape, xi))];
      } while (nn::next_index(c.kernel, k));
    }
    y.push_back(sum);
  } while (nn::next_index(out_dims, o));
  return make_tensor(x.dtype(), Shape(out_dims), y);
}

Result<std::vector<Tensor>> run_conv(const ConvCase& c, const Tensor& x, const Tensor& w, const Tensor& b) {
  OpRun run{OpKind::Conv, {x, w}, conv_attrs(c)};
  if (b.defined()) run.inputs.push_back(b);
  run.constant_inputs = {1, 2};
  return run_op(run);
}

Tensor conv_weight(const ConvCase& c, DType dtype, uint64_t seed) {
  std::vector<int64_t> dims = {c.out_channels, c.x_shape[1] / c.group};
  dims.insert(dims.end(), c.kernel.begin(), c.kernel.end());
  return random_tensor(dtype, Shape(dims), seed);
}

class ConvRandom : public ::testing::TestWithParam<ConvCase> {};

TEST_P(ConvRandom, MatchesDefinition) {
  const ConvCase& c = GetParam();
  const uint64_t seed = std::hash<std::string>{}(c.name);
  Tensor x = random_tensor(DType::kFloat32, Shape(c.x_shape), seed);
  Tensor w = conv_weight(c, DType::kFloat32, seed + 1);
  Tensor b = c.bias ? random_tensor(DType::kFloat32, Shape{c.out_channels}, seed + 2) : Tensor();
  auto result = run_conv(c, x, w, b);
  ASSERT_TRUE(result.ok()) << result.status().to_string();
  Tensor expected = conv_oracle(c, x, w, c.bias ? &b : nullptr);
  ASSERT_EQ((*result)[0].shape(), expected.shape());
  EXPECT_LE(max_relative_error((*result)[0], expected, 1e-3), 1e-5);
}

INSTANTIATE_TEST_SUITE_P(
    Conv, ConvRandom,
    ::testing::Values(
        ConvCase{"conv1d", {2, 3, 11}, 4, {3}},
        ConvCase{"conv1d_strided_padded", {1, 2, 10}, 3, {4}, 1, {3}, {}, {2, 1}, "NOTSET", true},
        ConvCase{"conv2d_basic", {2, 3, 7, 6}, 5, {3, 3}, 1, {}, {}, {}, "NOTSET", true},
        ConvCase{"conv2d_padded", {1, 2, 5, 5}, 2, {3, 3}, 1, {}, {}, {1, 1, 1, 1}},
        ConvCase{"conv2d_asymmetric_pads", {1, 2, 6, 5}, 3, {3, 2}, 1, {}, {}, {0, 2, 1, 0}},
        ConvCase{"conv2d_strided", {1, 3, 9, 8}, 4, {3, 3}, 1, {2, 3}, {}, {1, 1, 1, 1}, "NOTSET", true},
        ConvCase{"conv2d_dilated", {1, 2, 9, 9}, 2, {3, 3}, 1, {}, {2, 3}, {2, 1, 2, 3}},
        ConvCase{"conv2d_grouped", {2, 6, 6, 6}, 4, {3, 3}, 2, {}, {}, {1, 1, 1, 1}, "NOTSET", true},
        ConvCase{"conv2d_depthwise", {1, 4, 7, 7}, 4, {3, 3}, 4, {2, 2}, {}, {1, 1, 1, 1}},
        ConvCase{"conv2d_depthwise_multiplier", {1, 3, 5, 5}, 6, {3, 3}, 3, {}, {}, {1, 1, 1, 1}},
        ConvCase{"conv2d_same_upper", {1, 2, 7, 8}, 3, {4, 3}, 1, {2, 2}, {}, {}, "SAME_UPPER"},
        ConvCase{"conv2d_same_lower", {1, 2, 7, 8}, 3, {4, 3}, 1, {2, 2}, {}, {}, "SAME_LOWER"},
        ConvCase{"conv2d_same_dilated", {1, 1, 6, 6}, 2, {2, 2}, 1, {}, {2, 2}, {}, "SAME_UPPER", true},
        ConvCase{"conv2d_valid", {1, 2, 7, 8}, 3, {3, 3}, 1, {2, 2}, {}, {}, "VALID"},
        ConvCase{"conv2d_pointwise", {2, 8, 4, 4}, 5, {1, 1}, 1, {}, {}, {}, "NOTSET", true},
        ConvCase{"conv3d", {1, 2, 4, 5, 6}, 3, {2, 3, 2}, 1, {1, 2, 1}, {}, {1, 0, 1, 0, 1, 1}, "NOTSET", true},
        ConvCase{"conv3d_grouped_dilated", {1, 4, 5, 5, 5}, 2, {2, 2, 2}, 2, {}, {2, 1, 2}, {}}),
    [](const ::testing::TestParamInfo<ConvCase>& info) { return info.param.name; });

TEST(ConvHand, AllOnesKernelSumsWindows) {
  // x = 1..9 as 3x3; a 2x2 kernel of ones sums each 2x2 window.
  Tensor x = make_tensor(DType::kFloat32, Shape{1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  Tensor w = make_tensor(DType::kFloat32, Shape{1, 1, 2, 2}, {1, 1, 1, 1});
  auto r = run_op({OpKind::Conv, {x, w}, {}, 1, {1}});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ((*r)[0].shape(), (Shape{1, 1, 2, 2}));
  EXPECT_EQ(values_of((*r)[0]), (std::vector<double>{12, 16, 24, 28}));
}

TEST(ConvHand, PaddingStrideAndBias) {
  // pads 1 on every side, stride 2, 3x3 ones kernel, bias 10: window sums at rows/cols {-1..1, 1..3}.
  Tensor x = make_tensor(DType::kFloat32, Shape{1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  Tensor w = make_tensor(DType::kFloat32, Shape{1, 1, 3, 3}, std::vector<double>(9, 1.0));
  Tensor b = make_tensor(DType::kFloat32, Shape{1}, {10});
  Attributes attrs;
  attrs.set("pads", std::vector<int64_t>{1, 1, 1, 1});
  attrs.set("strides", std::vector<int64_t>{2, 2});
  auto r = run_op({OpKind::Conv, {x, w, b}, attrs, 1, {1, 2}});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ((*r)[0].shape(), (Shape{1, 1, 2, 2}));
  EXPECT_EQ(values_of((*r)[0]), (std::vector<double>{10 + 12, 10 + 16, 10 + 24, 10 + 28}));
}

TEST(ConvHand, DilationSkipsInputs) {
  // 1-D: x = 1..5, kernel [1, 1] with dilation 2 adds x[i] + x[i + 2].
  Tensor x = make_tensor(DType::kFloat32, Shape{1, 1, 5}, {1, 2, 3, 4, 5});
  Tensor w = make_tensor(DType::kFloat32, Shape{1, 1, 2}, {1, 1});
  Attributes attrs;
  attrs.set("dilations", std::vector<int64_t>{2});
  auto r = run_op({OpKind::Conv, {x, w}, attrs, 1, {1}});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(values_of((*r)[0]), (std::vector<double>{4, 6, 8}));
}

TEST(ConvHand, SameUpperVersusSameLower) {
  // in 4, kernel 2, stride 1: total padding 1, at the end (UPPER) or the start (LOWER).
  Tensor x = make_tensor(DType::kFloat32, Shape{1, 1, 4}, {1, 2, 3, 4});
  Tensor w = make_tensor(DType::kFloat32, Shape{1, 1, 2}, {1, 10});
  Attributes upper, lower;
  upper.set("auto_pad", std::string("SAME_UPPER"));
  lower.set("auto_pad", std::string("SAME_LOWER"));
  auto ru = run_op({OpKind::Conv, {x, w}, upper, 1, {1}});
  auto rl = run_op({OpKind::Conv, {x, w}, lower, 1, {1}});
  ASSERT_TRUE(ru.ok() && rl.ok());
  EXPECT_EQ(values_of((*ru)[0]), (std::vector<double>{21, 32, 43, 4}));
  EXPECT_EQ(values_of((*rl)[0]), (std::vector<double>{10, 21, 32, 43}));
}

TEST(ConvGrouped, EqualsConcatOfPerGroupConvs) {
  const int64_t groups = 3, cin = 6, cout = 9;
  Tensor x = random_tensor(DType::kFloat32, Shape{2, cin, 5, 5}, 101);
  Tensor w = random_tensor(DType::kFloat32, Shape{cout, cin / groups, 3, 3}, 102);
  Attributes attrs;
  attrs.set("group", groups);
  attrs.set("pads", std::vector<int64_t>{1, 0, 1, 0});
  auto full = run_op({OpKind::Conv, {x, w}, attrs, 1, {1}});
  ASSERT_TRUE(full.ok()) << full.status().to_string();
  const std::vector<double> xv = values_of(x), wv = values_of(w), yv = values_of((*full)[0]);
  const Shape& ys = (*full)[0].shape();
  const int64_t plane_in = 25, plane_out = ys[2] * ys[3];
  for (int64_t g = 0; g < groups; ++g) {
    std::vector<double> xs, ws;
    for (int64_t n = 0; n < 2; ++n)
      for (int64_t c = g * 2; c < g * 2 + 2; ++c)
        xs.insert(xs.end(), xv.begin() + (n * cin + c) * plane_in, xv.begin() + (n * cin + c + 1) * plane_in);
    ws.assign(wv.begin() + g * 3 * 18, wv.begin() + (g + 1) * 3 * 18);
    Attributes single;
    single.set("pads", std::vector<int64_t>{1, 0, 1, 0});
    auto part = run_op({OpKind::Conv,
                        {make_tensor(DType::kFloat32, Shape{2, 2, 5, 5}, xs), make_tensor(DType::kFloat32, Shape{3, 2, 3, 3}, ws)},
                        single, 1, {1}});
    ASSERT_TRUE(part.ok()) << part.status().to_string();
    const std::vector<double> pv = values_of((*part)[0]);
    for (int64_t n = 0; n < 2; ++n)
      for (int64_t m = 0; m < 3; ++m)
        for (int64_t i = 0; i < plane_out; ++i)
          EXPECT_DOUBLE_EQ(yv[static_cast<size_t>((n * cout + g * 3 + m) * plane_out + i)],
                           pv[static_cast<size_t>((n * 3 + m) * plane_out + i)]);
  }
}

TEST(ConvDtypes, NarrowAndWideFloatsMatchFloat64) {
  const ConvCase c{"dtypes", {1, 3, 6, 6}, 4, {3, 3}, 1, {1, 1}, {}, {1, 1, 1, 1}, "NOTSET", true};
  Tensor x64 = random_tensor(DType::kFloat64, Shape(c.x_shape), 7);
  Tensor w64 = conv_weight(c, DType::kFloat64, 8);
  Tensor b64 = random_tensor(DType::kFloat64, Shape{4}, 9);
  auto ref = run_conv(c, x64, w64, b64);
  ASSERT_TRUE(ref.ok()) << ref.status().to_string();
  EXPECT_LE(max_relative_error((*ref)[0], conv_oracle(c, x64, w64, &b64), 1e-9), 1e-12);
  const std::pair<DType, double> cases[] = {
      {DType::kFloat32, 1e-5}, {DType::kFloat16, 2e-2}, {DType::kBFloat16, 1e-1}};
  for (auto [dtype, tol] : cases) {
    // Same values rounded to dtype; compare against float64 computed on those rounded values.
    Tensor x = make_tensor(dtype, x64.shape(), values_of(x64));
    Tensor w = make_tensor(dtype, w64.shape(), values_of(w64));
    Tensor b = make_tensor(dtype, b64.shape(), values_of(b64));
    auto r = run_conv(c, x, w, b);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    Tensor actual = make_tensor(DType::kFloat64, (*r)[0].shape(), values_of((*r)[0]));
    Tensor b_rounded = make_tensor(DType::kFloat64, b.shape(), values_of(b));
    Tensor expected = conv_oracle(c, make_tensor(DType::kFloat64, x.shape(), values_of(x)),
                           make_tensor(DType::kFloat64, w.shape(), values_of(w)), &b_rounded);
    EXPECT_LE(max_relative_error(actual, expected, 1e-1), tol) << dtype_name(dtype);
  }
}

TEST(ConvErrors, BadInputsAreRejected) {
  Tensor x = random_tensor(DType::kFloat32, Shape{1, 3, 5, 5}, 1);
  // Channel mismatch: W expects 2 input channels.
  EXPECT_FALSE(run_op({OpKind::Conv, {x, random_tensor(DType::kFloat32, Shape{4, 2, 3, 3}, 2)}, {}, 1, {1}}).ok());
  // Kernel larger than the (unpadded) input.
  EXPECT_FALSE(run_op({OpKind::Conv, {x, random_tensor(DType::kFloat32, Shape{4, 3, 6, 6}, 3)}, {}, 1, {1}}).ok());
  // Weight of the wrong rank.
  EXPECT_FALSE(run_op({OpKind::Conv, {x, random_tensor(DType::kFloat32, Shape{4, 3, 3}, 4)}, {}, 1, {1}}).ok());
  // Bias of the wrong length.
  EXPECT_FALSE(run_op({OpKind::Conv,
                       {x, random_tensor(DType::kFloat32, Shape{4, 3, 3, 3}, 5), random_tensor(DType::kFloat32, Shape{3}, 6)},
                       {}, 1, {1, 2}})
                   .ok());
  // Output channels not divisible by group.
  Attributes grouped;
  grouped.set("group", int64_t{3});
  EXPECT_FALSE(run_op({OpKind::Conv, {x, random_tensor(DType::kFloat32, Shape{4, 1, 3, 3}, 7)}, grouped, 1, {1}}).ok());
  // Wrong-length strides and an unknown auto_pad.
  Attributes strides, auto_pad;
  strides.set("strides", std::vector<int64_t>{1});
  auto_pad.set("auto_pad", std::string("SAME"));
  Tensor w = random_tensor(DType::kFloat32, Shape{4, 3, 3, 3}, 8);
  EXPECT_FALSE(run_op({OpKind::Conv, {x, w}, strides, 1, {1}}).ok());
  EXPECT_FALSE(run_op({OpKind::Conv, {x, w}, auto_pad, 1, {1}}).ok());
  // Integer input.
  EXPECT_FALSE(run_op({OpKind::Conv, {random_tensor(DType::kInt32, Shape{1, 3, 5, 5}, 9, 0, 5),
                                      random_tensor(DType::kInt32, Shape{4, 3, 3, 3}, 10, 0, 5)}, {}, 1, {1}})
                   .ok());
}

}  // namespace
}  // namespace kiln::testing
