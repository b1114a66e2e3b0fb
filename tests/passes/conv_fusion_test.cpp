// Conv fusion: before/expected text for a ResNet bottleneck tail and for chains that must stop
// early, each checked numerically against the unfused graph.
#include <gtest/gtest.h>

#include "pass_test_util.h"
#include "passes/fuse/conv_fusion.h"

namespace kiln::passes {
namespace {

using testing::GraphBuilder;
using testing::attrs_of;

constexpr double kTolerance = 1e-5;
constexpr uint64_t kSeed = 777;

// relu(conv2(relu(conv1(x) + bias)) + x): a residual block with a per-channel bias Add.
ir::Graph residual_block(bool expose_sum) {
  GraphBuilder b("block");
  ir::Value* x = b.input("x", {1, 4, 5, 5});
  ir::Value* c1 = b.op(OpKind::Conv, "conv1", {x, b.weight("w1", {4, 4, 3, 3}, 1), b.weight("b1", {4}, 2)},
                       attrs_of({{"pads", std::vector<int64_t>{1, 1, 1, 1}}}));
  ir::Value* r1 = b.op(OpKind::Relu, "relu1", {c1});
  ir::Value* c2 = b.op(OpKind::Conv, "conv2", {r1, b.weight("w2", {4, 4, 1, 1}, 3)});
  ir::Value* biased = b.op(OpKind::Add, "bias", {c2, b.weight("channel_bias", {4, 1, 1}, 4)});
  ir::Value* sum = b.op(OpKind::Add, "residual", {biased, x});
  b.output(b.op(OpKind::Relu, "relu2", {sum}));
  if (expose_sum) b.output(sum);
  return b.take();
}

TEST(ConvFusion, ResidualBlockBecomesTwoFusedConvs) {
  auto outcome = testing::run_pass([] { return residual_block(false); }, fuse_conv_chains, kSeed);
  ASSERT_TRUE(outcome.failure.empty()) << outcome.failure;
  EXPECT_TRUE(outcome.fired);
  EXPECT_EQ(outcome.text,
            "graph block (opset 17)\n"
            "  input x: float32[1,4,5,5]\n"
            "  const w1: float32[4,4,3,3]\n"
            "  const b1: float32[4]\n"
            "  const w2: float32[4,4,1,1]\n"
            "  const conv2.fused_bias: float32[4]\n"
            "  %relu1: float32[1,4,5,5] = FusedConv(%x, %w1, %b1) {activation=\"Relu\", pads=[1,1,1,1]}  # conv1\n"
            "  %relu2: float32[1,4,5,5] = FusedConv(%relu1, %w2, %conv2.fused_bias, %x) {activation=\"Relu\"}  # conv2\n"
            "  output %relu2\n");
  EXPECT_LE(outcome.max_error, kTolerance);
}

TEST(ConvFusion, StopsBeforeAValueThatIsAGraphOutput) {
  auto outcome = testing::run_pass([] { return residual_block(true); }, fuse_conv_chains, kSeed);
  ASSERT_TRUE(outcome.failure.empty()) << outcome.failure;
  EXPECT_TRUE(outcome.fired);
  EXPECT_EQ(outcome.text,
            "graph block (opset 17)\n"
            "  input x: float32[1,4,5,5]\n"
            "  const w1: float32[4,4,3,3]\n"
            "  const b1: float32[4]\n"
            "  const w2: float32[4,4,1,1]\n"
            "  const conv2.fused_bias: float32[4]\n"
            "  %relu1: float32[1,4,5,5] = FusedConv(%x, %w1, %b1) {activation=\"Relu\", pads=[1,1,1,1]}  # conv1\n"
            "  %residual: float32[1,4,5,5] = FusedConv(%relu1, %w2, %conv2.fused_bias, %x)  # conv2\n"
            "  %relu2: float32[1,4,5,5] = Relu(%residual)  # relu2\n"
            "  output %relu2\n"
            "  output %residual\n");
  EXPECT_LE(outcome.max_error, kTolerance);
}

TEST(ConvFusion, ConvReadTwiceKeepsItsReaders) {
  auto build = [] {
    GraphBuilder b("shared");
    ir::Value* x = b.input("x", {1, 2, 4, 4});
    ir::Value* c = b.op(OpKind::Conv, "conv", {x, b.weight("w", {3, 2, 3, 3}, 5)});
    b.output(b.op(OpKind::Relu, "relu", {c}));
    b.output(b.op(OpKind::Sigmoid, "sigmoid", {c}));
    return b.take();
  };
  auto outcome = testing::run_pass(build, fuse_conv_chains, kSeed);
  ASSERT_TRUE(outcome.failure.empty()) << outcome.failure;
  EXPECT_EQ(outcome.text,
            "graph shared (opset 17)\n"
            "  input x: float32[1,2,4,4]\n"
            "  const w: float32[3,2,3,3]\n"
            "  %conv: float32[1,3,2,2] = FusedConv(%x, %w)  # conv\n"
            "  %relu: float32[1,3,2,2] = Relu(%conv)  # relu\n"
            "  %sigmoid: float32[1,3,2,2] = Sigmoid(%conv)  # sigmoid\n"
            "  output %relu\n"
            "  output %sigmoid\n");
  EXPECT_LE(outcome.max_error, kTolerance);
}

TEST(ConvFusion, ClipWithConstantBoundsBecomesTheActivation) {
  auto build = [] {
    GraphBuilder b("relu6");
    ir::Value* x = b.input("x", {1, 2, 4, 4});
    ir::Value* c = b.op(OpKind::Conv, "conv", {x, b.weight("w", {3, 2, 1, 1}, 6, -3.0, 3.0)});
    b.output(b.op(OpKind::Clip, "clip", {c, b.scalar("lo", 0.0), b.scalar("hi", 1.0)}));
    return b.take();
  };
  auto outcome = testing::run_pass(build, fuse_conv_chains, kSeed);
  ASSERT_TRUE(outcome.failure.empty()) << outcome.failure;
  EXPECT_NE(outcome.text.find("FusedConv(%x, %w) {activation=\"Clip\", activation_max=1, activation_min=0}"),
            std::string::npos)
      << outcome.text;
  EXPECT_LE(outcome.max_error, kTolerance);
}

}  // namespace
}  // namespace kiln::passes
