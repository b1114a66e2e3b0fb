// BatchNormalization folding: before/expected text, and the folded graph computes what the
// original did on random inputs.
#include <gtest/gtest.h>

#include "pass_test_util.h"
#include "passes/fold/batch_norm_folding.h"

namespace kiln::passes {
namespace {

using testing::GraphBuilder;
using testing::attrs_of;

constexpr double kTolerance = 1e-5;
constexpr uint64_t kSeed = 4242;

// BatchNormalization's parameters for `channels` with random statistics (variance positive).
std::vector<ir::Value*> bn_params(GraphBuilder& b, int64_t channels, uint64_t seed) {
  return {b.weight("gamma", {channels}, seed, 0.5, 1.5), b.weight("beta", {channels}, seed + 1),
          b.weight("mean", {channels}, seed + 2), b.weight("var", {channels}, seed + 3, 0.5, 2.0)};
}

ir::Value* batch_norm(GraphBuilder& b, ir::Value* x, int64_t channels, Attributes attrs = {}) {
  std::vector<ir::Value*> in = {x};
  for (ir::Value* p : bn_params(b, channels, 7)) in.push_back(p);
  return b.op(OpKind::BatchNormalization, "bn", in, std::move(attrs));
}

ir::Graph conv_bn(bool conv_is_output) {
  GraphBuilder b("conv_bn");
  ir::Value* x = b.input("x", {2, 3, 6, 6});
  ir::Value* conv = b.op(OpKind::Conv, "conv", {x, b.weight("w", {4, 3, 3, 3}, 1), b.weight("b", {4}, 2)},
                         attrs_of({{"pads", std::vector<int64_t>{1, 1, 1, 1}}}));
  b.output(batch_norm(b, conv, 4, attrs_of({{"epsilon", 1e-3f}})));
  if (conv_is_output) b.output(conv);
  return b.take();
}

TEST(BatchNormFolding, FoldsIntoConvWeightsAndBias) {
  auto outcome = testing::run_pass([] { return conv_bn(false); }, fold_batch_norms, kSeed);
  ASSERT_TRUE(outcome.failure.empty()) << outcome.failure;
  EXPECT_TRUE(outcome.fired);
  EXPECT_EQ(outcome.text,
            "graph conv_bn (opset 17)\n"
            "  input x: float32[2,3,6,6]\n"
            "  const conv.folded_weight: float32[4,3,3,3]\n"
            "  const conv.folded_bias: float32[4]\n"
            "  %bn: float32[2,4,6,6] = Conv(%x, %conv.folded_weight, %conv.folded_bias) {pads=[1,1,1,1]}  # conv\n"
            "  output %bn\n");
  EXPECT_LE(outcome.max_error, kTolerance);
}

TEST(BatchNormFolding, KeepsAConvOutputThatIsAlsoAGraphOutput) {
  auto outcome = testing::run_pass([] { return conv_bn(true); }, fold_batch_norms, kSeed);
  ASSERT_TRUE(outcome.failure.empty()) << outcome.failure;
  EXPECT_FALSE(outcome.fired);
  EXPECT_NE(outcome.text.find("BatchNormalization"), std::string::npos);
}

TEST(BatchNormFolding, FoldsIntoGemmWithTransposedWeights) {
  auto build = [] {
    GraphBuilder b("gemm_bn");
    ir::Value* x = b.input("x", {3, 5});
    ir::Value* gemm = b.op(OpKind::Gemm, "gemm", {x, b.weight("w", {4, 5}, 11), b.weight("c", {4}, 12)},
                           attrs_of({{"transB", int64_t{1}}, {"alpha", 0.5f}}));
    b.output(batch_norm(b, gemm, 4));
    return b.take();
  };
  auto outcome = testing::run_pass(build, fold_batch_norms, kSeed);
  ASSERT_TRUE(outcome.failure.empty()) << outcome.failure;
  EXPECT_TRUE(outcome.fired);
  EXPECT_EQ(outcome.text,
            "graph gemm_bn (opset 17)\n"
            "  input x: float32[3,5]\n"
            "  const gemm.folded_weight: float32[4,5]\n"
            "  const gemm.folded_bias: float32[4]\n"
            "  %bn: float32[3,4] = Gemm(%x, %gemm.folded_weight, %gemm.folded_bias) {alpha=0.5, transB=1}  # gemm\n"
            "  output %bn\n");
  EXPECT_LE(outcome.max_error, kTolerance);
}

TEST(BatchNormFolding, MatMulGainsABiasAdd) {
  auto build = [] {
    GraphBuilder b("matmul_bn");
    ir::Value* x = b.input("x", {3, 5});
    b.output(batch_norm(b, b.op(OpKind::MatMul, "mm", {x, b.weight("w", {5, 4}, 21)}), 4));
    return b.take();
  };
  auto outcome = testing::run_pass(build, fold_batch_norms, kSeed);
  ASSERT_TRUE(outcome.failure.empty()) << outcome.failure;
  EXPECT_TRUE(outcome.fired);
  EXPECT_EQ(outcome.text,
            "graph matmul_bn (opset 17)\n"
            "  input x: float32[3,5]\n"
            "  const mm.folded_weight: float32[5,4]\n"
            "  const mm.folded_bias: float32[4]\n"
            "  %mm.folded: float32[3,4] = MatMul(%x, %mm.folded_weight)  # mm\n"
            "  %bn: float32[3,4] = Add(%mm.folded, %mm.folded_bias)  # bn\n"
            "  output %bn\n");
  EXPECT_LE(outcome.max_error, kTolerance);
}

TEST(BatchNormFolding, LeavesTrainingModeAlone) {
  auto build = [] {
    GraphBuilder b("training");
    ir::Value* x = b.input("x", {2, 3, 4, 4});
    ir::Value* conv = b.op(OpKind::Conv, "conv", {x, b.weight("w", {4, 3, 1, 1}, 31)});
    b.output(batch_norm(b, conv, 4, attrs_of({{"training_mode", int64_t{1}}})));
    return b.take();
  };
  auto outcome = testing::run_pass(build, fold_batch_norms, kSeed);
  EXPECT_FALSE(outcome.fired);
  EXPECT_NE(outcome.text.find("BatchNormalization"), std::string::npos);
}

}  // namespace
}  // namespace kiln::passes
