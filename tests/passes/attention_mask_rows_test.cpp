// attention-mask-rows: a mask that does not vary along the query axis becomes a one-row Slice;
// masks that do vary (or cannot be proven not to) stay. Checked numerically on random inputs.
#include <gtest/gtest.h>

#include "pass_test_util.h"
#include "passes/layout/attention_mask_rows.h"

namespace kiln::passes {
namespace {

using testing::GraphBuilder;

constexpr uint64_t kSeed = 17;
constexpr double kTolerance = 1e-6;

enum class MaskSource { kExpandedPadding, kUniformConstant, kVaryingConstant, kFullInput };

ir::Graph attention_with(MaskSource source) {
  GraphBuilder b("mask_rows");
  const Shape qkv{2, 2, 4, 8};
  ir::Value* q = b.input("q", qkv);
  ir::Value* k = b.input("k", qkv);
  ir::Value* v = b.input("v", qkv);
  ir::Value* mask = nullptr;
  switch (source) {
    case MaskSource::kExpandedPadding: {
      ir::Value* padding = b.input("padding", {2, 1, 1, 4});
      ir::Value* scaled = b.op(OpKind::Mul, "scaled", {padding, b.scalar("neg", -5.0)});
      mask = b.op(OpKind::Expand, "expanded", {scaled, b.ints("target", {2, 1, 4, 4})});
      break;
    }
    case MaskSource::kUniformConstant:
      mask = b.op(OpKind::Add, "offset", {b.input("bias", {1, 1, 1, 4}),
                                           b.constant("rows", {1, 1, 4, 4}, {0, -1, -2, -3, 0, -1, -2, -3, 0, -1, -2, -3,
                                                                             0, -1, -2, -3})});
      break;
    case MaskSource::kVaryingConstant:
      mask = b.constant("causal", {1, 1, 4, 4}, {0, -9, -9, -9, 0, 0, -9, -9, 0, 0, 0, -9, 0, 0, 0, 0});
      break;
    case MaskSource::kFullInput:
      mask = b.input("full", {2, 1, 4, 4});
      break;
  }
  b.output(b.op(OpKind::ScaledDotProductAttention, "attention", {q, k, v, mask}, testing::attrs_of({{"scale", 0.35F}})));
  return b.take();
}

TEST(AttentionMaskRows, MasksEqualAlongTheQueryAxisBecomeOneRow) {
  for (MaskSource source : {MaskSource::kExpandedPadding, MaskSource::kUniformConstant}) {
    auto outcome = testing::run_pass([&] { return attention_with(source); }, shrink_uniform_attention_masks, kSeed);
    ASSERT_TRUE(outcome.failure.empty()) << outcome.failure;
    EXPECT_TRUE(outcome.fired) << outcome.text;
    EXPECT_NE(outcome.text.find("= Slice("), std::string::npos) << outcome.text;
    const char* row_shape = source == MaskSource::kExpandedPadding ? "[2,1,1,4] = Slice(" : "[1,1,1,4] = Slice(";
    EXPECT_NE(outcome.text.find(row_shape), std::string::npos) << outcome.text;
    EXPECT_LE(outcome.max_error, kTolerance) << outcome.text;
  }
}

TEST(AttentionMaskRows, MasksThatVaryOrAreUnknownStay) {
  for (MaskSource source : {MaskSource::kVaryingConstant, MaskSource::kFullInput}) {
    auto outcome = testing::run_pass([&] { return attention_with(source); }, shrink_uniform_attention_masks, kSeed);
    ASSERT_TRUE(outcome.failure.empty()) << outcome.failure;
    EXPECT_FALSE(outcome.fired) << outcome.text;
  }
}

}  // namespace
}  // namespace kiln::passes
