// LayerNorm fusion: the exported decomposition with Pow or Mul squares, with and without the
// affine part, and reductions over a wrong axis that must not fuse; checked numerically.
#include <gtest/gtest.h>

#include "pass_test_util.h"
#include "passes/fuse/layer_norm_fusion.h"

namespace kiln::passes {
namespace {

using testing::GraphBuilder;

constexpr double kTolerance = 1e-4;
constexpr uint64_t kSeed = 5150;

struct LayerNormCase {
  bool pow_square = true;
  bool affine = true;
  int64_t axis = -1;
};

ir::Graph layer_norm(const LayerNormCase& c) {
  GraphBuilder b("layer_norm");
  ir::Value* x = b.input("x", {2, 3, 8});
  ir::Value* axes = b.ints("axes", {c.axis});
  ir::Value* mean = b.op(OpKind::ReduceMean, "mean", {x, axes});
  ir::Value* d = b.op(OpKind::Sub, "centred", {x, mean});
  ir::Value* square = c.pow_square ? b.op(OpKind::Pow, "square", {d, b.scalar("two", 2.0)})
                                   : b.op(OpKind::Mul, "square", {d, d});
  ir::Value* variance = b.op(OpKind::ReduceMean, "variance", {square, axes});
  ir::Value* shifted = b.op(OpKind::Add, "eps", {variance, b.scalar("epsilon", 1e-5)});
  ir::Value* y = b.op(OpKind::Div, "normalized", {d, b.op(OpKind::Sqrt, "std", {shifted})});
  if (c.affine) {
    y = b.op(OpKind::Mul, "scaled", {y, b.weight("gamma", {8}, 1)});
    y = b.op(OpKind::Add, "shifted", {b.weight("beta", {8}, 2), y});
  }
  b.output(y);
  return b.take();
}

TEST(LayerNormFusion, DecompositionWithScaleAndBias) {
  auto outcome = testing::run_pass([] { return layer_norm({}); }, fuse_layer_norms, kSeed);
  ASSERT_TRUE(outcome.failure.empty()) << outcome.failure;
  EXPECT_TRUE(outcome.fired);
  EXPECT_EQ(outcome.text,
            "graph layer_norm (opset 17)\n"
            "  input x: float32[2,3,8]\n"
            "  const gamma: float32[8]\n"
            "  const beta: float32[8]\n"
            "  %shifted: float32[2,3,8] = LayerNormalization(%x, %gamma, %beta) {axis=-1, epsilon=1e-05}  # shifted\n"
            "  output %shifted\n");
  EXPECT_LE(outcome.max_error, kTolerance);
}

TEST(LayerNormFusion, MulSquareWithoutAffineGetsUnitScale) {
  auto outcome = testing::run_pass([] { return layer_norm({false, false, 2}); }, fuse_layer_norms, kSeed);
  ASSERT_TRUE(outcome.failure.empty()) << outcome.failure;
  EXPECT_TRUE(outcome.fired);
  EXPECT_EQ(outcome.text,
            "graph layer_norm (opset 17)\n"
            "  input x: float32[2,3,8]\n"
            "  const normalized.scale: float32[8]\n"
            "  %normalized: float32[2,3,8] = LayerNormalization(%x, %normalized.scale) {axis=-1, epsilon=1e-05}  # normalized\n"
            "  output %normalized\n");
  EXPECT_LE(outcome.max_error, kTolerance);
}

TEST(LayerNormFusion, OtherAxisStays) {
  auto outcome = testing::run_pass([] { return layer_norm({true, true, 1}); }, fuse_layer_norms, kSeed);
  ASSERT_TRUE(outcome.failure.empty()) << outcome.failure;
  EXPECT_FALSE(outcome.fired);
  EXPECT_EQ(outcome.text.find("LayerNormalization"), std::string::npos);
}

}  // namespace
}  // namespace kiln::passes
