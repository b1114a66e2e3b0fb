// Sequence-major attention: the head-split Transposes around ScaledDotProductAttention go when
// all four are there, and stay (pass does not fire) when one is missing or the output is read
// elsewhere; checked numerically against the original graph.
#include <gtest/gtest.h>

#include "pass_test_util.h"
#include "passes/layout/attention_layout.h"

namespace kiln::passes {
namespace {

using testing::GraphBuilder;

constexpr uint64_t kSeed = 31;
constexpr double kTolerance = 1e-5;

struct Variant {
  bool transpose_v = true;     // false: V already [B,H,S,D] (no split Transpose)
  bool second_reader = false;  // the [B,H,S,D] output is read besides the merge Transpose
  bool with_mask = false;
};

ir::Graph split_heads_attention(const Variant& v) {
  GraphBuilder b("attention");
  const Shape bshd{2, 5, 3, 4};
  auto split = [&](const std::string& name) {
    return b.op(OpKind::Transpose, name + "_heads", {b.input(name, bshd)},
                testing::attrs_of({{"perm", std::vector<int64_t>{0, 2, 1, 3}}}));
  };
  ir::Value* q = split("q");
  ir::Value* k = split("k");
  ir::Value* val = v.transpose_v ? split("v") : b.input("v", {2, 3, 5, 4});
  std::vector<ir::Value*> inputs{q, k, val};
  if (v.with_mask) inputs.push_back(b.weight("mask", {2, 1, 1, 5}, 5, -3.0, 0.0));
  ir::Value* attention = b.op(OpKind::ScaledDotProductAttention, "attention", inputs,
                              testing::attrs_of({{"scale", 0.5F}}));
  ir::Value* merged = b.op(OpKind::Transpose, "merge", {attention},
                           testing::attrs_of({{"perm", std::vector<int64_t>{0, 2, 1, 3}}}));
  b.output(b.op(OpKind::Neg, "after", {merged}));
  if (v.second_reader) b.output(b.op(OpKind::Relu, "other", {attention}));
  return b.take();
}

TEST(SequenceMajorAttention, FourTransposesBecomeTheBshdLayout) {
  for (bool with_mask : {false, true}) {
    auto outcome = testing::run_pass([&] { return split_heads_attention({true, false, with_mask}); },
                                     use_sequence_major_attention, kSeed);
    ASSERT_TRUE(outcome.failure.empty()) << outcome.failure;
    EXPECT_TRUE(outcome.fired);
    EXPECT_NE(outcome.text.find("qkv_layout=\"BSHD\""), std::string::npos) << outcome.text;
    // The merge Transpose is gone; its output name now comes from the attention.
    EXPECT_NE(outcome.text.find("%merge: float32[2,5,3,4] = ScaledDotProductAttention(%q, %k, %v"), std::string::npos)
        << outcome.text;
    EXPECT_LE(outcome.max_error, kTolerance) << outcome.text;
  }
}

TEST(SequenceMajorAttention, LeavesPartialPatternsAlone) {
  for (const Variant& v : {Variant{false, false, false}, Variant{true, true, false}}) {
    auto outcome = testing::run_pass([&] { return split_heads_attention(v); }, use_sequence_major_attention, kSeed);
    ASSERT_TRUE(outcome.failure.empty()) << outcome.failure;
    EXPECT_FALSE(outcome.fired) << outcome.text;
    EXPECT_EQ(outcome.text.find("BSHD"), std::string::npos) << outcome.text;
  }
}

}  // namespace
}  // namespace kiln::passes
