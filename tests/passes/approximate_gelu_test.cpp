// Approximate GELU: erf GELU (standalone and absorbed into FusedMatMul) becomes the tanh form,
// already-approximate and other activations stay; the result moves by at most the
// approximation's 4.7e-4 (relative to the output's largest value here), never more.
#include <gtest/gtest.h>

#include "pass_test_util.h"
#include "passes/precision/approximate_gelu.h"

namespace kiln::passes {
namespace {

using testing::GraphBuilder;

constexpr uint64_t kSeed = 41;
// 4.7e-4 absolute at most; the outputs here reach about 2, so relative to that well under 1e-3.
constexpr double kApproximationTolerance = 1e-3;

ir::Graph gelu_graph(const std::string& fused_activation, const std::string& standalone_approximate) {
  GraphBuilder b("gelu");
  ir::Value* x = b.input("x", {4, 16});
  ir::Value* y = b.op(OpKind::FusedMatMul, "dense", {x, b.weight("w", {16, 8}, 3, -0.5, 0.5)},
                      testing::attrs_of({{"activation", fused_activation}}));
  b.output(b.op(OpKind::Gelu, "gelu", {y}, testing::attrs_of({{"approximate", standalone_approximate}})));
  return b.take();
}

TEST(ApproximateGelu, ErfGeluBecomesTheTanhForm) {
  auto outcome = testing::run_pass([] { return gelu_graph("Gelu", "none"); }, approximate_gelu, kSeed);
  ASSERT_TRUE(outcome.failure.empty()) << outcome.failure;
  EXPECT_TRUE(outcome.fired);
  EXPECT_NE(outcome.text.find("activation=\"GeluTanh\""), std::string::npos) << outcome.text;
  EXPECT_NE(outcome.text.find("approximate=\"tanh\""), std::string::npos) << outcome.text;
  EXPECT_EQ(outcome.text.find("approximate=\"none\""), std::string::npos) << outcome.text;
  EXPECT_GT(outcome.max_error, 0.0) << "the approximation changes results; equal outputs mean it did not run";
  EXPECT_LE(outcome.max_error, kApproximationTolerance) << outcome.text;
}

TEST(ApproximateGelu, LeavesOtherActivationsAlone) {
  auto outcome = testing::run_pass([] { return gelu_graph("Relu", "tanh"); }, approximate_gelu, kSeed);
  ASSERT_TRUE(outcome.failure.empty()) << outcome.failure;
  EXPECT_FALSE(outcome.fired) << outcome.text;
  EXPECT_EQ(outcome.max_error, 0.0);
}

}  // namespace
}  // namespace kiln::passes
