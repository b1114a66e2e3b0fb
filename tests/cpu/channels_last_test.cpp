// channels_last (NHWC) FusedConv and pools on the CPU backend vs the reference backend, which
// runs the same attribute by definition (docs/fused-ops.md): X, Z, Y [N,H,W,C], W [M,kH,kW,C/g].
#include "cpu_test_util.h"

#include "backends/cpu/cpu_backend.h"

namespace kiln::backends::cpu::testing {
namespace {

struct NhwcConv {
  Shape x, w;  // NHWC and [M, kH, kW, C/g]
  std::vector<int64_t> strides, pads;
  int64_t group;
  bool residual;
  const char* activation;
};

TEST(CpuChannelsLast, FusedConvMatchesReference) {
  const std::vector<NhwcConv> cases = {
      {{1, 17, 19, 3}, {8, 7, 7, 3}, {2, 2}, {3, 3, 3, 3}, 1, false, "Relu"},       // ResNet stem
      {{2, 9, 9, 16}, {32, 1, 1, 16}, {1, 1}, {0, 0, 0, 0}, 1, true, "Relu"},      // 1x1 + residual
      {{1, 10, 8, 16}, {16, 3, 3, 16}, {1, 1}, {1, 1, 1, 1}, 1, false, ""},        // 3x3
      {{1, 11, 11, 32}, {64, 3, 3, 32}, {2, 2}, {1, 0, 1, 0}, 1, false, "Gelu"},   // strided, asymmetric
      {{1, 12, 12, 8}, {8, 3, 3, 2}, {1, 1}, {1, 1, 1, 1}, 4, true, "Relu"},       // grouped
      {{2, 14, 14, 64}, {64, 3, 3, 64}, {1, 1}, {1, 1, 1, 1}, 1, true, "Relu"},    // bottleneck 3x3 (Winograd)
  };
  uint32_t salt = 100;
  for (const NhwcConv& s : cases) {
    OpCase c;
    c.op = OpKind::FusedConv;
    const int64_t oh = (s.x[1] + s.pads[0] + s.pads[2] - s.w[1]) / s.strides[0] + 1;
    const int64_t ow = (s.x[2] + s.pads[1] + s.pads[3] - s.w[2]) / s.strides[1] + 1;
    const Shape y{s.x[0], oh, ow, s.w[0]};
    c.inputs = {random_tensor(s.x, salt), random_tensor(s.w, salt + 1), random_tensor(Shape{s.w[0]}, salt + 2),
                s.residual ? random_tensor(y, salt + 3) : Tensor()};
    c.constant_inputs = {1, 2};
    c.attrs.set("strides", s.strides);
    c.attrs.set("pads", s.pads);
    c.attrs.set("group", s.group);
    c.attrs.set("activation", std::string(s.activation));
    c.attrs.set("channels_last", int64_t{1});
    expect_matches_reference(c, kGemmTolerance, "NHWC FusedConv x" + s.x.to_string() + " w" + s.w.to_string());
    salt += 10;
  }
}

// channel_block=16: X, Z, Y [N, C/16, H, W, 16], W [M, C, kH, kW]; every tactic (plain runs
// oneDNN on the blocks in place, Winograd where the layer allows) against the reference.
TEST(CpuChannelBlock, FusedConvMatchesReference) {
  struct BlockedConv {
    Shape x, w;  // x blocked; w OIHW
    std::vector<int64_t> strides, pads;
    bool residual;
  };
  const std::vector<BlockedConv> cases = {
      {{2, 4, 14, 14, 16}, {64, 64, 3, 3}, {1, 1}, {1, 1, 1, 1}, true},   // bottleneck 3x3 (Winograd)
      {{1, 2, 9, 9, 16}, {64, 32, 1, 1}, {1, 1}, {0, 0, 0, 0}, true},     // expanding 1x1 + residual
      {{1, 2, 10, 10, 16}, {48, 32, 1, 1}, {2, 2}, {0, 0, 0, 0}, false},  // strided downsample
      {{1, 1, 11, 11, 16}, {32, 16, 3, 3}, {2, 2}, {1, 1, 1, 1}, false},  // strided 3x3
  };
  uint32_t salt = 300;
  for (const BlockedConv& s : cases) {
    OpCase c;
    c.op = OpKind::FusedConv;
    const int64_t oh = (s.x[2] + s.pads[0] + s.pads[2] - s.w[2]) / s.strides[0] + 1;
    const int64_t ow = (s.x[3] + s.pads[1] + s.pads[3] - s.w[3]) / s.strides[1] + 1;
    const Shape y{s.x[0], s.w[0] / 16, oh, ow, 16};
    c.inputs = {random_tensor(s.x, salt), random_tensor(s.w, salt + 1), random_tensor(Shape{s.w[0]}, salt + 2),
                s.residual ? random_tensor(y, salt + 3) : Tensor()};
    c.constant_inputs = {1, 2};
    c.attrs.set("strides", s.strides);
    c.attrs.set("pads", s.pads);
    c.attrs.set("activation", std::string("Relu"));
    c.attrs.set("channel_block", int64_t{16});
    expect_matches_reference(c, kGemmTolerance, "blocked FusedConv x" + s.x.to_string() + " w" + s.w.to_string());
    salt += 10;
  }
}

TEST(CpuChannelBlock, OnlyFusedConvTakesTheAttribute) {
  OpCase c;
  c.op = OpKind::MaxPool;
  c.inputs = {random_tensor(Shape{1, 1, 4, 4, 16}, 7)};
  c.attrs.set("kernel_shape", std::vector<int64_t>{2, 2});
  c.attrs.set("channel_block", int64_t{16});
  CpuBackend backend;
  EXPECT_FALSE(backend.supports(describe(c, {Tensor(DType::kFloat32, Shape{1, 1, 3, 3, 16})})));
}

OpCase nhwc_pool(OpKind op, const Shape& x, uint32_t salt) {
  OpCase c;
  c.op = op;
  c.inputs = {random_tensor(x, salt)};
  c.attrs.set("channels_last", int64_t{1});
  if (op != OpKind::GlobalAveragePool) {
    c.attrs.set("kernel_shape", std::vector<int64_t>{3, 3});
    c.attrs.set("strides", std::vector<int64_t>{2, 2});
    c.attrs.set("pads", std::vector<int64_t>{1, 1, 1, 1});
  }
  return c;
}

TEST(CpuChannelsLast, PoolsMatchReference) {
  expect_matches_reference(nhwc_pool(OpKind::MaxPool, {2, 17, 17, 8}, 1), kExact, "NHWC MaxPool");
  expect_matches_reference(nhwc_pool(OpKind::AveragePool, {1, 9, 9, 6}, 2), kElementwiseTolerance, "NHWC AveragePool");
  expect_matches_reference(nhwc_pool(OpKind::GlobalAveragePool, {2, 7, 7, 64}, 3), kReductionTolerance,
                           "NHWC GlobalAveragePool");
  expect_matches_reference(nhwc_pool(OpKind::GlobalAveragePool, {3, 1, 5, 9}, 4), kReductionTolerance,
                           "NHWC GlobalAveragePool one row");
}

TEST(CpuChannelsLast, OtherOpsWithTheAttributeAreRefused) {
  OpCase c;
  c.op = OpKind::Relu;
  c.inputs = {random_tensor(Shape{1, 4, 4, 3}, 5)};
  c.attrs.set("channels_last", int64_t{1});
  const std::vector<Tensor> expected{c.inputs[0]};
  CpuBackend backend;
  EXPECT_FALSE(backend.supports(describe(c, expected)));
}

}  // namespace
}  // namespace kiln::backends::cpu::testing
