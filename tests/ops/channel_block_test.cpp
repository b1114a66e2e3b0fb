// The channel_block attribute of FusedConv: on seeded random data, the blocked op equals the
// NCHW op with X, Z and Y blocked by an index loop written here (independent of the Transpose
// kernel the reference implementation uses), and shape inference agrees (run_op checks it).
// Bad uses get a clear error.
#include <gtest/gtest.h>

#include "core/channel_block.h"
#include "core/channels_last.h"
#include "op_test_util.h"

namespace kiln::testing {
namespace {

constexpr double kExact = 1e-6;  // the same NCHW arithmetic on rearranged data

// [N, C, H, W] -> [N, C/16, H, W, 16].
Tensor to_blocked(const Tensor& t) {
  const Shape& s = t.shape();
  const int64_t b = kChannelBlock, blocks = s[1] / b;
  const std::vector<double> v = values_of(t);
  std::vector<double> out(v.size());
  for (int64_t n = 0; n < s[0]; ++n)
    for (int64_t c = 0; c < s[1]; ++c)
      for (int64_t h = 0; h < s[2]; ++h)
        for (int64_t w = 0; w < s[3]; ++w)
          out[static_cast<size_t>((((n * blocks + c / b) * s[2] + h) * s[3] + w) * b + c % b)] =
              v[static_cast<size_t>(((n * s[1] + c) * s[2] + h) * s[3] + w)];
  return make_tensor(t.dtype(), Shape{s[0], blocks, s[2], s[3], b}, out);
}

Attributes with_block(Attributes a, int64_t block = kChannelBlock) {
  a.set(kChannelBlockAttr, block);
  return a;
}

void expect_same_as_nchw(std::vector<Tensor> inputs, const Attributes& attrs) {
  auto expected = run_op({OpKind::FusedConv, inputs, attrs});
  ASSERT_TRUE(expected.ok()) << expected.status().to_string();
  for (size_t i : {size_t{0}, size_t{3}})
    if (i < inputs.size() && inputs[i].defined()) inputs[i] = to_blocked(inputs[i]);
  auto actual = run_op({OpKind::FusedConv, inputs, with_block(attrs)});
  ASSERT_TRUE(actual.ok()) << actual.status().to_string();
  const Tensor want = to_blocked((*expected)[0]);
  ASSERT_EQ((*actual)[0].shape(), want.shape());
  EXPECT_LE(max_relative_error((*actual)[0], want), kExact);
}

TEST(ChannelBlock, FusedConvWithBiasResidualAndRelu) {
  Attributes a;
  a.set("pads", std::vector<int64_t>{1, 1, 1, 1});
  a.set("activation", std::string("Relu"));
  const Tensor x = random_tensor(DType::kFloat32, Shape{2, 32, 5, 6}, 21);
  const Tensor w = random_tensor(DType::kFloat32, Shape{16, 32, 3, 3}, 22);
  const Tensor b = random_tensor(DType::kFloat32, Shape{16}, 23);
  const Tensor z = random_tensor(DType::kFloat32, Shape{2, 16, 5, 6}, 24);
  expect_same_as_nchw({x, w, b, z}, a);
}

TEST(ChannelBlock, StridedPointwiseFusedConvWithoutBias) {
  Attributes a;
  a.set("strides", std::vector<int64_t>{2, 2});
  const Tensor x = random_tensor(DType::kFloat32, Shape{1, 16, 7, 8}, 31);
  const Tensor w = random_tensor(DType::kFloat32, Shape{48, 16, 1, 1}, 32);
  expect_same_as_nchw({x, w}, a);
}

TEST(ChannelBlock, RejectsOtherBlocksLayoutsAndOps) {
  const Tensor x = random_tensor(DType::kFloat32, Shape{1, 1, 4, 4, 16}, 41);
  const Tensor w = random_tensor(DType::kFloat32, Shape{16, 16, 1, 1}, 42);
  auto eight = run_op({OpKind::FusedConv, {x, w}, with_block({}, 8)});
  ASSERT_FALSE(eight.ok());
  EXPECT_NE(eight.status().message().find("expected 0 or 16"), std::string::npos) << eight.status().to_string();

  Attributes both = with_block({});
  both.set(kChannelsLastAttr, int64_t{1});
  auto combined = run_op({OpKind::FusedConv, {x, w}, both});
  ASSERT_FALSE(combined.ok());
  EXPECT_NE(combined.status().message().find("cannot be combined"), std::string::npos) << combined.status().to_string();

  auto rank4 = run_op({OpKind::FusedConv, {random_tensor(DType::kFloat32, Shape{1, 16, 4, 4}, 43), w}, with_block({})});
  ASSERT_FALSE(rank4.ok());
  EXPECT_NE(rank4.status().message().find("input 0 is [1,16,4,4], not channel-blocked"), std::string::npos) << rank4.status().to_string();

  // 24 output channels do not fill whole blocks.
  auto partial = run_op({OpKind::FusedConv, {x, random_tensor(DType::kFloat32, Shape{24, 16, 1, 1}, 44)}, with_block({})});
  ASSERT_FALSE(partial.ok());
  EXPECT_NE(partial.status().message().find("multiple of 16"), std::string::npos) << partial.status().to_string();

  Attributes pool = with_block({});
  pool.set("kernel_shape", std::vector<int64_t>{2, 2});
  auto max_pool = run_op({OpKind::MaxPool, {x}, pool});
  ASSERT_FALSE(max_pool.ok());
  EXPECT_NE(max_pool.status().message().find("not defined for this op"), std::string::npos)
      << max_pool.status().to_string();
}

}  // namespace
}  // namespace kiln::testing
