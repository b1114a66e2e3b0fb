// MatMul fusion: bias and activation into FusedMatMul, Gemm's transB and C, and the cases that
// must not fuse; each checked numerically against the unfused graph.
#include <gtest/gtest.h>

#include "pass_test_util.h"
#include "passes/fuse/matmul_fusion.h"

namespace kiln::passes {
namespace {

using testing::GraphBuilder;
using testing::attrs_of;

constexpr double kTolerance = 1e-5;
constexpr uint64_t kSeed = 99;

TEST(MatMulFusion, BiasAndGeluJoinTheMatMul) {
  auto build = [] {
    GraphBuilder b("ffn");
    ir::Value* x = b.input("x", {2, 3, 8});
    ir::Value* mm = b.op(OpKind::MatMul, "mm", {x, b.weight("w", {8, 6}, 1)});
    ir::Value* biased = b.op(OpKind::Add, "bias", {b.weight("b", {6}, 2), mm});
    b.output(b.op(OpKind::Gelu, "gelu", {biased}));
    return b.take();
  };
  auto outcome = testing::run_pass(build, fuse_matmul_chains, kSeed);
  ASSERT_TRUE(outcome.failure.empty()) << outcome.failure;
  EXPECT_TRUE(outcome.fired);
  EXPECT_EQ(outcome.text,
            "graph ffn (opset 17)\n"
            "  input x: float32[2,3,8]\n"
            "  const w: float32[8,6]\n"
            "  const b: float32[6]\n"
            "  %gelu: float32[2,3,6] = FusedMatMul(%x, %w, %b) {activation=\"Gelu\"}  # mm\n"
            "  output %gelu\n");
  EXPECT_LE(outcome.max_error, kTolerance);
}

TEST(MatMulFusion, GemmTransBAndRowBiasMapToTransBAndBias) {
  auto build = [] {
    GraphBuilder b("gemm");
    ir::Value* x = b.input("x", {3, 8});
    ir::Value* gemm = b.op(OpKind::Gemm, "fc", {x, b.weight("w", {5, 8}, 3), b.weight("c", {1, 5}, 4)},
                           attrs_of({{"transB", int64_t{1}}}));
    b.output(b.op(OpKind::Relu, "relu", {gemm}));
    return b.take();
  };
  auto outcome = testing::run_pass(build, fuse_matmul_chains, kSeed);
  ASSERT_TRUE(outcome.failure.empty()) << outcome.failure;
  EXPECT_EQ(outcome.text,
            "graph gemm (opset 17)\n"
            "  input x: float32[3,8]\n"
            "  const w: float32[5,8]\n"
            "  const fc.bias: float32[5]\n"
            "  %relu: float32[3,5] = FusedMatMul(%x, %w, %fc.bias) {activation=\"Relu\", trans_b=1}  # fc\n"
            "  output %relu\n");
  EXPECT_LE(outcome.max_error, kTolerance);
}

TEST(MatMulFusion, GemmWithAlphaOrTransAStays) {
  for (const auto& [attr, value] : std::vector<std::pair<std::string, AttributeValue>>{{"alpha", 2.0f}, {"transA", int64_t{1}}}) {
    auto build = [&] {
      GraphBuilder b("gemm");
      ir::Value* x = b.input("x", {4, 4});
      b.output(b.op(OpKind::Gemm, "fc", {x, b.weight("w", {4, 4}, 5)}, attrs_of({{attr, value}})));
      return b.take();
    };
    auto outcome = testing::run_pass(build, fuse_matmul_chains, kSeed);
    ASSERT_TRUE(outcome.failure.empty()) << outcome.failure;
    EXPECT_FALSE(outcome.fired) << attr;
    EXPECT_NE(outcome.text.find("= Gemm("), std::string::npos) << attr;
  }
}

TEST(MatMulFusion, BareMatMulAndOneWhoseOutputIsReadElsewhereStay) {
  auto build = [] {
    GraphBuilder b("kept");
    ir::Value* x = b.input("x", {3, 4});
    ir::Value* bare = b.op(OpKind::MatMul, "bare", {x, b.weight("w1", {4, 4}, 6)});
    ir::Value* shared = b.op(OpKind::MatMul, "shared", {bare, b.weight("w2", {4, 4}, 7)});
    b.output(b.op(OpKind::Add, "bias", {shared, b.weight("b", {4}, 8)}));
    b.output(shared);
    return b.take();
  };
  auto outcome = testing::run_pass(build, fuse_matmul_chains, kSeed);
  ASSERT_TRUE(outcome.failure.empty()) << outcome.failure;
  EXPECT_FALSE(outcome.fired);
  EXPECT_EQ(outcome.text.find("FusedMatMul"), std::string::npos);
}

TEST(MatMulFusion, ResidualAddBecomesZBeforeTheActivation) {
  auto build = [] {
    GraphBuilder b("residual");
    ir::Value* x = b.input("x", {2, 3, 8});
    ir::Value* mm = b.op(OpKind::MatMul, "dense", {x, b.weight("w", {8, 8}, 1)});
    ir::Value* biased = b.op(OpKind::Add, "bias", {mm, b.weight("b", {8}, 2)});
    ir::Value* summed = b.op(OpKind::Add, "residual", {x, biased});
    b.output(b.op(OpKind::Relu, "relu", {summed}));
    return b.take();
  };
  auto outcome = testing::run_pass(build, fuse_matmul_chains, kSeed);
  ASSERT_TRUE(outcome.failure.empty()) << outcome.failure;
  EXPECT_TRUE(outcome.fired);
  EXPECT_EQ(outcome.text,
            "graph residual (opset 17)\n"
            "  input x: float32[2,3,8]\n"
            "  const w: float32[8,8]\n"
            "  const b: float32[8]\n"
            "  %relu: float32[2,3,8] = FusedMatMul(%x, %w, %b, %x) {activation=\"Relu\"}  # dense\n"
            "  output %relu\n");
  EXPECT_LE(outcome.max_error, kTolerance);
}

TEST(MatMulFusion, ABroadcastingAddIsNoResidual) {
  auto build = [] {
    GraphBuilder b("broadcast");
    ir::Value* x = b.input("x", {2, 3, 8});
    ir::Value* row = b.input("row", {3, 8});
    ir::Value* mm = b.op(OpKind::MatMul, "dense", {x, b.weight("w", {8, 8}, 1)});
    ir::Value* biased = b.op(OpKind::Add, "bias", {mm, b.weight("b", {8}, 2)});
    b.output(b.op(OpKind::Add, "plus_row", {biased, row}));
    return b.take();
  };
  auto outcome = testing::run_pass(build, fuse_matmul_chains, kSeed);
  ASSERT_TRUE(outcome.failure.empty()) << outcome.failure;
  EXPECT_TRUE(outcome.fired);
  EXPECT_NE(outcome.text.find("FusedMatMul(%x, %w, %b)"), std::string::npos) << outcome.text;
  EXPECT_NE(outcome.text.find("= Add("), std::string::npos) << outcome.text;
  EXPECT_LE(outcome.max_error, kTolerance);
}

}  // namespace
}  // namespace kiln::passes
