// Pooling: hand-computed MaxPool / AveragePool / LpPool cases per attribute, Indices with both
// storage orders, random cross-checks against a per-output oracle, global pools, bad inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "nn_test_helpers.h"

namespace kiln::testing {
namespace {

Tensor iota_4x4(DType dtype = DType::kFloat32) {
  std::vector<double> v(16);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(i);
  return make_tensor(dtype, Shape{1, 1, 4, 4}, v);
}

Attributes window(std::vector<int64_t> kernel, std::vector<int64_t> strides = {}) {
  Attributes a;
  a.set("kernel_shape", std::move(kernel));
  if (!strides.empty()) a.set("strides", std::move(strides));
  return a;
}

TEST(PoolMax, ValuesAndIndicesInBothStorageOrders) {
  Attributes attrs = window({2, 2}, {2, 2});
  auto r = run_op({OpKind::MaxPool, {iota_4x4()}, attrs, 2});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(values_of((*r)[0]), (std::vector<double>{5, 7, 13, 15}));
  EXPECT_EQ(values_of((*r)[1]), (std::vector<double>{5, 7, 13, 15}));
  EXPECT_EQ((*r)[1].dtype(), DType::kInt64);
  attrs.set("storage_order", int64_t{1});  // column-major: (h, w) -> w * 4 + h
  auto col = run_op({OpKind::MaxPool, {iota_4x4()}, attrs, 2});
  ASSERT_TRUE(col.ok()) << col.status().to_string();
  EXPECT_EQ(values_of((*col)[1]), (std::vector<double>{5, 13, 7, 15}));
}

TEST(PoolMax, IndicesCountBatchAndChannel) {
  // Second plane (n = 0, c = 1) has its maxima at flat indices 16 + ...
  Tensor x = random_tensor(DType::kFloat32, Shape{2, 3, 4, 4}, 5);
  auto r = run_op({OpKind::MaxPool, {x}, window({4, 4}), 2});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const std::vector<double> xv = values_of(x), idx = values_of((*r)[1]), yv = values_of((*r)[0]);
  for (size_t plane = 0; plane < 6; ++plane) {
    const auto i = static_cast<size_t>(idx[plane]);
    EXPECT_GE(i, plane * 16);
    EXPECT_LT(i, plane * 16 + 16);
    EXPECT_EQ(xv[i], yv[plane]);
  }
}

TEST(PoolMax, CeilModeAddsPartialWindows) {
  Attributes floor_attrs = window({3, 3}, {2, 2});
  auto floor_r = run_op({OpKind::MaxPool, {iota_4x4()}, floor_attrs});
  ASSERT_TRUE(floor_r.ok());
  EXPECT_EQ(values_of((*floor_r)[0]), (std::vector<double>{10}));
  Attributes ceil_attrs = floor_attrs;
  ceil_attrs.set("ceil_mode", int64_t{1});
  auto ceil_r = run_op({OpKind::MaxPool, {iota_4x4()}, ceil_attrs});
  ASSERT_TRUE(ceil_r.ok());
  EXPECT_EQ(values_of((*ceil_r)[0]), (std::vector<double>{10, 11, 14, 15}));
}

TEST(PoolMax, CeilModeDropsWindowsStartingInThePadding) {
  // in 5, kernel 2, stride 2, pads 1+1: ceil((5 + 2 - 2) / 2) + 1 = 4 windows, but the 4th would
  // start at padded position 6 (the end padding) and is dropped: 3 outputs.
  Tensor x = make_tensor(DType::kFloat32, Shape{1, 1, 5}, {1, 5, 2, 4, 3});
  Attributes attrs = window({2}, {2});
  attrs.set("pads", std::vector<int64_t>{1, 1});
  attrs.set("ceil_mode", int64_t{1});
  auto r = run_op({OpKind::MaxPool, {x}, attrs});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(values_of((*r)[0]), (std::vector<double>{1, 5, 4}));
}

TEST(PoolMax, DilationsAndPads) {
  Attributes dilated = window({2, 2});
  dilated.set("dilations", std::vector<int64_t>{2, 2});
  auto r = run_op({OpKind::MaxPool, {iota_4x4()}, dilated});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(values_of((*r)[0]), (std::vector<double>{10, 11, 14, 15}));
  // Padding never wins, even against negative inputs.
  Tensor neg = make_tensor(DType::kFloat32, Shape{1, 1, 2, 2}, {-4, -3, -2, -1});
  Attributes padded = window({2, 2});
  padded.set("pads", std::vector<int64_t>{1, 1, 1, 1});
  auto p = run_op({OpKind::MaxPool, {neg}, padded});
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  EXPECT_EQ(values_of((*p)[0]), (std::vector<double>{-4, -3, -3, -2, -1, -1, -2, -1, -1}));
}

TEST(PoolMax, IntegerInputs) {
  for (DType dtype : {DType::kInt8, DType::kUInt8}) {
    Tensor x = random_tensor(dtype, Shape{1, 2, 4, 4}, 3, dtype == DType::kInt8 ? -100 : 0, 100);
    auto r = run_op({OpKind::MaxPool, {x}, window({2, 2}, {2, 2})});
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    EXPECT_EQ((*r)[0].dtype(), dtype);
    const std::vector<double> xv = values_of(x), yv = values_of((*r)[0]);
    for (int64_t c = 0; c < 2; ++c)
      for (int64_t oh = 0; oh < 2; ++oh)
        for (int64_t ow = 0; ow < 2; ++ow) {
          double best = -1e9;
          for (int64_t kh = 0; kh < 2; ++kh)
            for (int64_t kw = 0; kw < 2; ++kw)
              best = std::max(best, xv[static_cast<size_t>(c * 16 + (oh * 2 + kh) * 4 + ow * 2 + kw)]);
          EXPECT_EQ(yv[static_cast<size_t>(c * 4 + oh * 2 + ow)], best);
        }
  }
}

TEST(PoolAverage, CountIncludePad) {
  Tensor x = make_tensor(DType::kFloat32, Shape{1, 1, 2, 2}, {1, 2, 3, 4});
  Attributes attrs = window({2, 2});
  attrs.set("pads", std::vector<int64_t>{1, 1, 1, 1});
  auto r = run_op({OpKind::AveragePool, {x}, attrs});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(values_of((*r)[0]), (std::vector<double>{1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4}));
  attrs.set("count_include_pad", int64_t{1});
  auto inc = run_op({OpKind::AveragePool, {x}, attrs});
  ASSERT_TRUE(inc.ok()) << inc.status().to_string();
  EXPECT_EQ(values_of((*inc)[0]), (std::vector<double>{0.25, 0.75, 0.5, 1, 2.5, 1.5, 0.75, 1.75, 1}));
}

TEST(PoolAverage, SameUpperAndSameLowerShapes) {
  Tensor x = random_tensor(DType::kFloat32, Shape{1, 2, 5, 7}, 9);
  for (const char* mode : {"SAME_UPPER", "SAME_LOWER"}) {
    Attributes attrs = window({3, 2}, {2, 2});
    attrs.set("auto_pad", std::string(mode));
    auto r = run_op({OpKind::AveragePool, {x}, attrs});
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    EXPECT_EQ((*r)[0].shape(), (Shape{1, 2, 3, 4})) << mode;  // ceil(in / stride)
  }
}

TEST(PoolLp, PNormOfEachWindow) {
  Tensor x = make_tensor(DType::kFloat32, Shape{1, 1, 4}, {3, -4, 1, 2});
  Attributes attrs = window({2}, {2});
  auto l2 = run_op({OpKind::LpPool, {x}, attrs});
  ASSERT_TRUE(l2.ok()) << l2.status().to_string();
  EXPECT_LE(max_relative_error((*l2)[0], make_tensor(DType::kFloat32, Shape{1, 1, 2}, {5, std::sqrt(5.0)})), 1e-6);
  attrs.set("p", int64_t{1});
  auto l1 = run_op({OpKind::LpPool, {x}, attrs});
  ASSERT_TRUE(l1.ok()) << l1.status().to_string();
  EXPECT_EQ(values_of((*l1)[0]), (std::vector<double>{7, 3}));
}

// Per-output oracle over an explicit padded window.
struct PoolCase {
  std::string name;
  OpKind op;
  std::vector<int64_t> x_shape;
  std::vector<int64_t> kernel, strides, dilations, pads;
  std::string auto_pad = "NOTSET";
  bool ceil_mode = false;
  bool count_include_pad = false;
};

Tensor pool_oracle(const PoolCase& c, const Tensor& x) {
  const size_t spatial = c.kernel.size();
  std::vector<int64_t> in(c.x_shape.begin() + 2, c.x_shape.end());
  nn::Padding pad = nn::forward_padding(c.auto_pad, c.pads, in, c.kernel, c.strides, c.dilations);
  std::vector<int64_t> out_dims = {c.x_shape[0], c.x_shape[1]};
  for (size_t a = 0; a < spatial; ++a)
    out_dims.push_back(nn::forward_output(in[a], pad, a, c.kernel[a], c.strides[a], c.dilations[a],
                                          c.auto_pad == "NOTSET" && c.ceil_mode));
  const std::vector<double> xv = values_of(x);
  std::vector<double> y;
  std::vector<int64_t> o(out_dims.size(), 0);
  do {
    double best = -std::numeric_limits<double>::infinity(), sum = 0.0, squares = 0.0;
    int64_t count = 0;
    std::vector<int64_t> k(spatial, 0);
    do {
      std::vector<int64_t> xi = {o[0], o[1]};
      bool inside = true, in_padded = true;
      for (size_t a = 0; a < spatial; ++a) {
        const int64_t i = o[a + 2] * c.strides[a] + k[a] * c.dilations[a] - pad.begin[a];
        inside = inside && i >= 0 && i < in[a];
        in_padded = in_padded && i < in[a] + pad.end[a];
        xi.push_back(i);
      }
      if (inside || (c.count_include_pad && in_padded)) ++count;
      if (!inside) continue;
      const double v = xv[static_cast<size_t>(nn::flat_index(c.x_shape, xi))];
      best = std::max(best, v);
      sum += v;
      squares += v * v;
    } while (nn::next_index(c.kernel, k));
    if (c.op == OpKind::MaxPool) y.push_back(best);
    else if (c.op == OpKind::AveragePool) y.push_back(sum / static_cast<double>(count));
    else y.push_back(std::sqrt(squares));
  } while (nn::next_index(out_dims, o));
  return make_tensor(x.dtype(), Shape(out_dims), y);
}

class PoolRandom : public ::testing::TestWithParam<PoolCase> {};

TEST_P(PoolRandom, MatchesDefinition) {
  const PoolCase& c = GetParam();
  Tensor x = random_tensor(DType::kFloat32, Shape(c.x_shape), std::hash<std::string>{}(c.name));
  Attributes attrs;
  attrs.set("kernel_shape", c.kernel);
  attrs.set("strides", c.strides);
  if (c.op == OpKind::MaxPool) attrs.set("dilations", c.dilations);
  if (c.auto_pad == "NOTSET") attrs.set("pads", c.pads);
  else attrs.set("auto_pad", c.auto_pad);
  if (c.ceil_mode) attrs.set("ceil_mode", int64_t{1});
  if (c.count_include_pad) attrs.set("count_include_pad", int64_t{1});
  auto r = run_op({c.op, {x}, attrs});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  Tensor expected = pool_oracle(c, x);
  ASSERT_EQ((*r)[0].shape(), expected.shape());
  EXPECT_LE(max_relative_error((*r)[0], expected, 1e-3), 1e-5);
}

INSTANTIATE_TEST_SUITE_P(
    Pool, PoolRandom,
    ::testing::Values(
        PoolCase{"max_1d", OpKind::MaxPool, {2, 3, 11}, {3}, {2}, {1}, {1, 0}},
        PoolCase{"max_2d_padded_strided", OpKind::MaxPool, {1, 2, 9, 8}, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}},
        PoolCase{"max_2d_dilated_ceil", OpKind::MaxPool, {1, 2, 10, 9}, {2, 3}, {3, 2}, {2, 1}, {0, 1, 1, 0}, "NOTSET", true},
        PoolCase{"max_2d_same_lower", OpKind::MaxPool, {1, 1, 7, 6}, {3, 2}, {2, 2}, {1, 1}, {}, "SAME_LOWER"},
        PoolCase{"max_3d", OpKind::MaxPool, {1, 2, 4, 5, 6}, {2, 2, 3}, {1, 2, 2}, {1, 1, 1}, {0, 1, 1, 1, 0, 1}},
        PoolCase{"avg_2d_exclude_pad", OpKind::AveragePool, {2, 2, 7, 7}, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}},
        PoolCase{"avg_2d_include_pad", OpKind::AveragePool, {2, 2, 7, 7}, {3, 3}, {2, 2}, {1, 1}, {1, 2, 1, 0}, "NOTSET", false, true},
        PoolCase{"avg_2d_ceil", OpKind::AveragePool, {1, 3, 8, 8}, {3, 3}, {2, 2}, {1, 1}, {0, 0, 0, 0}, "NOTSET", true},
        PoolCase{"avg_2d_same_upper", OpKind::AveragePool, {1, 2, 6, 5}, {3, 3}, {2, 2}, {1, 1}, {}, "SAME_UPPER"},
        PoolCase{"avg_2d_valid", OpKind::AveragePool, {1, 2, 6, 5}, {2, 2}, {2, 2}, {1, 1}, {}, "VALID"},
        PoolCase{"lp_2d", OpKind::LpPool, {1, 2, 6, 6}, {2, 3}, {2, 1}, {1, 1}, {1, 0, 0, 1}}),
    [](const ::testing::TestParamInfo<PoolCase>& info) { return info.param.name; });

TEST(PoolGlobal, MaxAverageAndLpOverSpatialAxes) {
  Tensor x = random_tensor(DType::kFloat32, Shape{2, 3, 4, 5}, 21);
  const std::vector<double> xv = values_of(x);
  std::vector<double> maxes, means, norms;
  for (size_t plane = 0; plane < 6; ++plane) {
    double m = -1e300, s = 0.0, q = 0.0;
    for (size_t i = 0; i < 20; ++i) {
      const double v = xv[plane * 20 + i];
      m = std::max(m, v);
      s += v;
      q += v * v;
    }
    maxes.push_back(m);
    means.push_back(s / 20.0);
    norms.push_back(std::sqrt(q));
  }
  const std::pair<OpKind, std::vector<double>*> cases[] = {
      {OpKind::GlobalMaxPool, &maxes}, {OpKind::GlobalAveragePool, &means}, {OpKind::GlobalLpPool, &norms}};
  for (auto [op, expected] : cases) {
    auto r = run_op({op, {x}});
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    EXPECT_EQ((*r)[0].shape(), (Shape{2, 3, 1, 1}));
    EXPECT_LE(max_relative_error((*r)[0], make_tensor(DType::kFloat32, Shape{2, 3, 1, 1}, *expected)), 1e-6);
  }
}

TEST(PoolDtypes, AveragePoolInHalfPrecisions) {
  Tensor x64 = random_tensor(DType::kFloat64, Shape{1, 2, 6, 6}, 33);
  Attributes attrs = window({3, 3}, {1, 1});
  auto ref = run_op({OpKind::AveragePool, {x64}, attrs});
  ASSERT_TRUE(ref.ok());
  for (auto [dtype, tol] : {std::pair{DType::kFloat16, 1e-2}, std::pair{DType::kBFloat16, 5e-2}}) {
    auto r = run_op({OpKind::AveragePool, {make_tensor(dtype, x64.shape(), values_of(x64))}, attrs});
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    EXPECT_EQ((*r)[0].dtype(), dtype);
    EXPECT_LE(max_relative_error(make_tensor(DType::kFloat64, (*r)[0].shape(), values_of((*r)[0])), (*ref)[0], 1e-1), tol);
  }
}

TEST(PoolErrors, BadInputsAreRejected) {
  Tensor x = random_tensor(DType::kFloat32, Shape{1, 1, 4, 4}, 1);
  EXPECT_FALSE(run_op({OpKind::MaxPool, {x}, {}}).ok());                           // no kernel_shape
  EXPECT_FALSE(run_op({OpKind::MaxPool, {x}, window({5, 5})}).ok());               // window > input
  EXPECT_FALSE(run_op({OpKind::MaxPool, {x}, window({2})}).ok());                  // wrong kernel rank
  EXPECT_FALSE(run_op({OpKind::AveragePool, {x}, window({2, 2}, {0, 1})}).ok());  // zero stride
  EXPECT_FALSE(run_op({OpKind::AveragePool, {random_tensor(DType::kInt8, Shape{1, 1, 4, 4}, 2, -5, 5)}, window({2, 2})}).ok());
  EXPECT_FALSE(run_op({OpKind::GlobalAveragePool, {random_tensor(DType::kFloat32, Shape{4, 4}, 3)}}).ok());
}

}  // namespace
}  // namespace kiln::testing
