// Horizontal fusion: Q/K/V-style sibling products and sibling 1x1 convs merge into one node and
// a Split; siblings that differ stay apart. Each checked numerically against the original.
#include <gtest/gtest.h>

#include "pass_test_util.h"
#include "passes/fuse/horizontal_conv_fusion.h"
#include "passes/fuse/horizontal_matmul_fusion.h"

namespace kiln::passes {
namespace {

using testing::GraphBuilder;
using testing::attrs_of;

constexpr double kTolerance = 1e-5;
constexpr uint64_t kSeed = 1999;

TEST(HorizontalMatMulFusion, QueryKeyValueProjectionsMerge) {
  auto build = [] {
    GraphBuilder b("qkv");
    ir::Value* x = b.input("x", {2, 3, 8});
    for (const char* p : {"q", "k", "v"}) {
      const uint64_t seed = static_cast<uint64_t>(p[0]);
      b.output(b.op(OpKind::FusedMatMul, p, {x, b.weight(std::string(p) + ".w", {8, 4}, seed),
                                             b.weight(std::string(p) + ".b", {4}, seed + 1)}));
    }
    // Different activation: a sibling that must stay apart.
    b.output(b.op(OpKind::FusedMatMul, "ffn", {x, b.weight("ffn.w", {8, 4}, 5), b.weight("ffn.b", {4}, 6)},
                  attrs_of({{"activation", std::string("Relu")}})));
    return b.take();
  };
  auto outcome = testing::run_pass(build, fuse_sibling_matmuls, kSeed);
  ASSERT_TRUE(outcome.failure.empty()) << outcome.failure;
  EXPECT_TRUE(outcome.fired);
  EXPECT_EQ(outcome.text,
            "graph qkv (opset 17)\n"
            "  input x: float32[2,3,8]\n"
            "  const ffn.w: float32[8,4]\n"
            "  const ffn.b: float32[4]\n"
            "  const q.merged.weight: float32[8,12]\n"
            "  const q.merged.bias: float32[12]\n"
            "  const q.merged.split: int64[3]\n"
            "  %ffn: float32[2,3,4] = FusedMatMul(%x, %ffn.w, %ffn.b) {activation=\"Relu\"}  # ffn\n"
            "  %q.merged: float32[2,3,12] = FusedMatMul(%x, %q.merged.weight, %q.merged.bias)  # q.merged\n"
            "  %q: float32[2,3,4], %k: float32[2,3,4], %v: float32[2,3,4] = Split(%q.merged, %q.merged.split) {axis=-1}  # q.merged.split\n"
            "  output %q\n"
            "  output %k\n"
            "  output %v\n"
            "  output %ffn\n");
  EXPECT_LE(outcome.max_error, kTolerance);
}

TEST(HorizontalConvFusion, SiblingPointwiseConvsMergeAndOthersStay) {
  auto build = [] {
    GraphBuilder b("branches");
    ir::Value* x = b.input("x", {1, 4, 5, 5});
    const Attributes relu = attrs_of({{"activation", std::string("Relu")}});
    b.output(b.op(OpKind::FusedConv, "a", {x, b.weight("a.w", {3, 4, 1, 1}, 1), b.weight("a.b", {3}, 2)}, relu));
    b.output(b.op(OpKind::FusedConv, "b", {x, b.weight("b.w", {5, 4, 1, 1}, 3), b.weight("b.b", {5}, 4)}, relu));
    b.output(b.op(OpKind::FusedConv, "wide", {x, b.weight("wide.w", {2, 4, 3, 3}, 5)}, relu));
    return b.take();
  };
  auto outcome = testing::run_pass(build, fuse_sibling_pointwise_convs, kSeed);
  ASSERT_TRUE(outcome.failure.empty()) << outcome.failure;
  EXPECT_TRUE(outcome.fired);
  EXPECT_EQ(outcome.text,
            "graph branches (opset 17)\n"
            "  input x: float32[1,4,5,5]\n"
            "  const wide.w: float32[2,4,3,3]\n"
            "  const a.merged.weight: float32[8,4,1,1]\n"
            "  const a.merged.bias: float32[8]\n"
            "  const a.merged.split: int64[2]\n"
            "  %wide: float32[1,2,3,3] = FusedConv(%x, %wide.w) {activation=\"Relu\"}  # wide\n"
            "  %a.merged: float32[1,8,5,5] = FusedConv(%x, %a.merged.weight, %a.merged.bias) {activation=\"Relu\"}  # a.merged\n"
            "  %a: float32[1,3,5,5], %b: float32[1,5,5,5] = Split(%a.merged, %a.merged.split) {axis=1}  # a.merged.split\n"
            "  output %a\n"
            "  output %b\n"
            "  output %wide\n");
  EXPECT_LE(outcome.max_error, kTolerance);
}

}  // namespace
}  // namespace kiln::passes
