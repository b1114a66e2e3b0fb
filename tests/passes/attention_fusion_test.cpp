// Attention fusion on the BERT export's shape of the pattern (K^T as Transpose [0,2,3,1] of the
// head-split keys, Div by sqrt(d), additive mask) and on variants (scale on Q, no mask, K^T
// from a last-two-axes transpose); each checked numerically against the unfused graph.
#include <gtest/gtest.h>

#include "pass_test_util.h"
#include "passes/fuse/attention_fusion.h"

namespace kiln::passes {
namespace {

using testing::GraphBuilder;
using testing::attrs_of;

constexpr double kTolerance = 1e-5;
constexpr uint64_t kSeed = 31337;
constexpr int64_t kBatch = 2, kHeads = 2, kSeq = 5, kHead = 4;

ir::Graph bert_attention(bool expose_scores) {
  GraphBuilder b("attention");
  ir::Value* q = b.input("q", {kBatch, kHeads, kSeq, kHead});
  ir::Value* k_split = b.input("k_split", {kBatch, kSeq, kHeads, kHead});
  ir::Value* v = b.input("v", {kBatch, kHeads, kSeq, kHead});
  ir::Value* mask = b.input("mask", {kBatch, 1, 1, kSeq});
  ir::Value* k_t = b.op(OpKind::Transpose, "k_t", {k_split}, attrs_of({{"perm", std::vector<int64_t>{0, 2, 3, 1}}}));
  ir::Value* scores = b.op(OpKind::MatMul, "qk", {q, k_t});
  ir::Value* scaled = b.op(OpKind::Div, "scale", {scores, b.scalar("sqrt_d", 2.0)});
  ir::Value* masked = b.op(OpKind::Add, "mask_add", {scaled, mask});
  ir::Value* p = b.op(OpKind::Softmax, "softmax", {masked}, attrs_of({{"axis", int64_t{-1}}}));
  b.output(b.op(OpKind::MatMul, "context", {p, v}));
  if (expose_scores) b.output(scaled);
  return b.take();
}

TEST(AttentionFusion, BertExportPattern) {
  auto outcome = testing::run_pass([] { return bert_attention(false); }, fuse_attention, kSeed);
  ASSERT_TRUE(outcome.failure.empty()) << outcome.failure;
  EXPECT_TRUE(outcome.fired);
  EXPECT_EQ(outcome.text,
            "graph attention (opset 17)\n"
            "  input q: float32[2,2,5,4]\n"
            "  input k_split: float32[2,5,2,4]\n"
            "  input v: float32[2,2,5,4]\n"
            "  input mask: float32[2,1,1,5]\n"
            "  %softmax.key: float32[2,2,5,4] = Transpose(%k_split) {perm=[0,2,1,3]}  # softmax.key\n"
            "  %context: float32[2,2,5,4] = ScaledDotProductAttention(%q, %softmax.key, %v, %mask) {scale=0.5}  # softmax\n"
            "  output %context\n");
  EXPECT_LE(outcome.max_error, kTolerance);
}

TEST(AttentionFusion, ScoresReadElsewhereStay) {
  auto outcome = testing::run_pass([] { return bert_attention(true); }, fuse_attention, kSeed);
  ASSERT_TRUE(outcome.failure.empty()) << outcome.failure;
  EXPECT_FALSE(outcome.fired);
}

TEST(AttentionFusion, MaskThatWouldGrowTheScoresStays) {
  auto build = [] {
    GraphBuilder b("mask_grows");
    ir::Value* q = b.input("q", {1, kHeads, kSeq, kHead});  // one query batch ...
    ir::Value* k = b.input("k", {1, kHeads, kSeq, kHead});
    ir::Value* v = b.input("v", {1, kHeads, kSeq, kHead});
    ir::Value* mask = b.input("mask", {kBatch, 1, 1, kSeq});  // ... against a batch of masks
    ir::Value* k_t = b.op(OpKind::Transpose, "k_t", {k}, attrs_of({{"perm", std::vector<int64_t>{0, 1, 3, 2}}}));
    ir::Value* masked = b.op(OpKind::Add, "mask_add", {b.op(OpKind::MatMul, "qk", {q, k_t}), mask});
    b.output(b.op(OpKind::MatMul, "context", {b.op(OpKind::Softmax, "softmax", {masked}), v}));
    return b.take();
  };
  auto outcome = testing::run_pass(build, fuse_attention, kSeed);
  ASSERT_TRUE(outcome.failure.empty()) << outcome.failure;
  EXPECT_FALSE(outcome.fired);
}

TEST(AttentionFusion, ScalesOnQueryAndKeyMultiply) {
  auto build = [] {
    GraphBuilder b("attention_qk_scale");
    ir::Value* q = b.input("q", {kBatch, kHeads, kSeq, kHead});
    ir::Value* k = b.input("k", {kBatch, kHeads, kSeq, kHead});
    ir::Value* v = b.input("v", {kBatch, kHeads, kSeq, kHead});
    ir::Value* q_scaled = b.op(OpKind::Div, "q_scale", {q, b.scalar("q_c", 2.0)});
    ir::Value* k_scaled = b.op(OpKind::Mul, "k_scale", {k, b.scalar("k_c", 0.25)});
    ir::Value* k_t = b.op(OpKind::Transpose, "k_t", {k_scaled}, attrs_of({{"perm", std::vector<int64_t>{0, 1, 3, 2}}}));
    ir::Value* p = b.op(OpKind::Softmax, "softmax", {b.op(OpKind::MatMul, "qk", {q_scaled, k_t})});
    b.output(b.op(OpKind::MatMul, "context", {p, v}));
    return b.take();
  };
  auto outcome = testing::run_pass(build, fuse_attention, kSeed);
  ASSERT_TRUE(outcome.failure.empty()) << outcome.failure;
  EXPECT_TRUE(outcome.fired);
  EXPECT_NE(outcome.text.find("= ScaledDotProductAttention(%q, %k, %v) {scale=0.125}"), std::string::npos) << outcome.text;
  EXPECT_LE(outcome.max_error, kTolerance);
}

TEST(AttentionFusion, ScaleOnQueryAndNoMask) {
  auto build = [] {
    GraphBuilder b("attention_q_scale");
    ir::Value* q = b.input("q", {kBatch, kHeads, kSeq, kHead});
    ir::Value* k = b.input("k", {kBatch, kHeads, kSeq, kHead});
    ir::Value* v = b.input("v", {kBatch, kHeads, kSeq, kHead});
    ir::Value* q_scaled = b.op(OpKind::Mul, "q_scale", {b.scalar("c", 0.25), q});
    ir::Value* k_t = b.op(OpKind::Transpose, "k_t", {k}, attrs_of({{"perm", std::vector<int64_t>{0, 1, 3, 2}}}));
    ir::Value* p = b.op(OpKind::Softmax, "softmax", {b.op(OpKind::MatMul, "qk", {q_scaled, k_t})});
    b.output(b.op(OpKind::MatMul, "context", {p, v}));
    return b.take();
  };
  auto outcome = testing::run_pass(build, fuse_attention, kSeed);
  ASSERT_TRUE(outcome.failure.empty()) << outcome.failure;
  EXPECT_TRUE(outcome.fired);
  EXPECT_EQ(outcome.text,
            "graph attention_q_scale (opset 17)\n"
            "  input q: float32[2,2,5,4]\n"
            "  input k: float32[2,2,5,4]\n"
            "  input v: float32[2,2,5,4]\n"
            "  %context: float32[2,2,5,4] = ScaledDotProductAttention(%q, %k, %v) {scale=0.25}  # softmax\n"
            "  output %context\n");
  EXPECT_LE(outcome.max_error, kTolerance);
}

}  // namespace
}  // namespace kiln::passes
