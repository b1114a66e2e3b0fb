// The channels_last attribute of FusedConv and the pools: on seeded random data, the
// channels-last op equals the NCHW op with its inputs and output permuted by an index loop
// written here (independent of the Transpose kernel the reference implementation uses), and
// shape inference agrees (run_op checks it). Bad uses get a clear error.
#include <gtest/gtest.h>

#include "core/channels_last.h"
#include "op_test_util.h"

namespace kiln::testing {
namespace {

constexpr double kExact = 1e-6;  // the same NCHW arithmetic on permuted data

// [d0, d1, d2, d3] -> [d0, d2, d3, d1]: NCHW -> NHWC, and W [M, C/g, kH, kW] -> [M, kH, kW, C/g].
Tensor to_nhwc(const Tensor& t) {
  const Shape& s = t.shape();
  const std::vector<double> v = values_of(t);
  std::vector<double> out(v.size());
  for (int64_t n = 0; n < s[0]; ++n)
    for (int64_t c = 0; c < s[1]; ++c)
      for (int64_t h = 0; h < s[2]; ++h)
        for (int64_t w = 0; w < s[3]; ++w)
          out[static_cast<size_t>(((n * s[2] + h) * s[3] + w) * s[1] + c)] =
              v[static_cast<size_t>(((n * s[1] + c) * s[2] + h) * s[3] + w)];
  return make_tensor(t.dtype(), Shape{s[0], s[2], s[3], s[1]}, out);
}

Attributes with_channels_last(Attributes a) {
  a.set(kChannelsLastAttr, int64_t{1});
  return a;
}

// Runs `op` in NCHW on `inputs` and channels-last on the permuted `nhwc` inputs; compares.
void expect_same_as_nchw(OpKind op, std::vector<Tensor> inputs, const std::vector<size_t>& nhwc, const Attributes& attrs) {
  auto expected = run_op({op, inputs, attrs});
  ASSERT_TRUE(expected.ok()) << expected.status().to_string();
  for (size_t i : nhwc)
    if (inputs[i].defined()) inputs[i] = to_nhwc(inputs[i]);
  auto actual = run_op({op, inputs, with_channels_last(attrs)});
  ASSERT_TRUE(actual.ok()) << actual.status().to_string();
  const Tensor want = to_nhwc((*expected)[0]);
  ASSERT_EQ((*actual)[0].shape(), want.shape());
  EXPECT_LE(max_relative_error((*actual)[0], want), kExact);
}

TEST(ChannelsLast, FusedConvWithBiasResidualAndRelu) {
  Attributes a;
  a.set("pads", std::vector<int64_t>{1, 0, 1, 2});
  a.set("strides", std::vector<int64_t>{2, 1});
  a.set("activation", std::string("Relu"));
  const Tensor x = random_tensor(DType::kFloat32, Shape{2, 5, 7, 6}, 11);
  const Tensor w = random_tensor(DType::kFloat32, Shape{4, 5, 3, 2}, 12);
  const Tensor b = random_tensor(DType::kFloat32, Shape{4}, 13);
  const Tensor z = random_tensor(DType::kFloat32, Shape{2, 4, 4, 7}, 14);
  expect_same_as_nchw(OpKind::FusedConv, {x, w, b, z}, {0, 1, 3}, a);
}

TEST(ChannelsLast, GroupedDilatedFusedConvWithoutBias) {
  Attributes a;
  a.set("group", int64_t{3});
  a.set("dilations", std::vector<int64_t>{2, 2});
  a.set("pads", std::vector<int64_t>{2, 2, 2, 2});
  const Tensor x = random_tensor(DType::kFloat32, Shape{1, 6, 8, 9}, 21);
  const Tensor w = random_tensor(DType::kFloat32, Shape{9, 2, 3, 3}, 22);
  expect_same_as_nchw(OpKind::FusedConv, {x, w}, {0, 1}, a);
}

TEST(ChannelsLast, MaxAndAveragePools) {
  Attributes a;
  a.set("kernel_shape", std::vector<int64_t>{3, 3});
  a.set("strides", std::vector<int64_t>{2, 2});
  a.set("pads", std::vector<int64_t>{1, 1, 1, 1});
  const Tensor x = random_tensor(DType::kFloat32, Shape{2, 3, 9, 8}, 31);
  expect_same_as_nchw(OpKind::MaxPool, {x}, {0}, a);
  expect_same_as_nchw(OpKind::AveragePool, {x}, {0}, a);
  a.set("count_include_pad", int64_t{1});
  expect_same_as_nchw(OpKind::AveragePool, {x}, {0}, a);
}

TEST(ChannelsLast, GlobalAveragePoolKeepsUnitSpatialDims) {
  const Tensor x = random_tensor(DType::kFloat32, Shape{3, 7, 5, 4}, 41);
  expect_same_as_nchw(OpKind::GlobalAveragePool, {x}, {0}, {});
  auto r = run_op({OpKind::GlobalAveragePool, {to_nhwc(x)}, with_channels_last({})});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ((*r)[0].shape(), (Shape{3, 1, 1, 7}));
}

TEST(ChannelsLast, RejectsNon2DValuesOtherThanZeroOneAndIndices) {
  Attributes pool;
  pool.set("kernel_shape", std::vector<int64_t>{2});
  auto one_d = run_op({OpKind::MaxPool, {random_tensor(DType::kFloat32, Shape{1, 4, 6}, 51)}, with_channels_last(pool)});
  ASSERT_FALSE(one_d.ok());
  EXPECT_NE(one_d.status().message().find("rank-4"), std::string::npos) << one_d.status().to_string();

  Attributes two = pool;
  two.set("kernel_shape", std::vector<int64_t>{2, 2});
  two.set(kChannelsLastAttr, int64_t{2});
  auto bad_value = run_op({OpKind::MaxPool, {random_tensor(DType::kFloat32, Shape{1, 4, 4, 4}, 52)}, two});
  ASSERT_FALSE(bad_value.ok());
  EXPECT_NE(bad_value.status().message().find("expected 0 or 1"), std::string::npos) << bad_value.status().to_string();

  two.set(kChannelsLastAttr, int64_t{1});
  auto indices = run_op({OpKind::MaxPool, {random_tensor(DType::kFloat32, Shape{1, 4, 4, 4}, 53)}, two, 2});
  ASSERT_FALSE(indices.ok());
  EXPECT_NE(indices.status().message().find("Indices"), std::string::npos) << indices.status().to_string();
}

}  // namespace
}  // namespace kiln::testing
