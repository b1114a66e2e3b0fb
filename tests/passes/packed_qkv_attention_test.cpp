// Packed Q/K/V attention: the Split of a fused [B, S, 3 H D] projection and its three head
// Reshapes become one Reshape to [B, S, 3, H, D] read by sequence-major attention in place
// ("BS3HD"); partial patterns (another reader of a slice, slices in another order, a split on
// another axis) stay. Checked numerically against the original graph.
#include <gtest/gtest.h>

#include "pass_test_util.h"
#include "passes/layout/packed_qkv_attention.h"

namespace kiln::passes {
namespace {

using testing::GraphBuilder;

constexpr uint64_t kSeed = 37;
constexpr double kTolerance = 1e-5;
constexpr int64_t kBatch = 2, kSeq = 5, kHeads = 3, kHeadDim = 4;

struct Variant {
  bool with_mask = false;
  bool extra_reader = false;  // the K slice is also a graph output
  bool swap_kv = false;       // V from slice 1, K from slice 2
};

ir::Graph packed_attention(const Variant& v) {
  GraphBuilder b("attention");
  const int64_t width = kHeads * kHeadDim;
  ir::Value* x = b.input("x", {kBatch, kSeq, 8});
  ir::Value* projection = b.op(OpKind::MatMul, "qkv", {x, b.weight("w", {8, 3 * width}, 3)});
  ir::Graph& g = b.graph();
  std::vector<ir::Value*> slices = {g.add_value("q_flat"), g.add_value("k_flat"), g.add_value("v_flat")};
  g.add_node(OpKind::Split, "split", {projection, b.ints("sizes", {width, width, width})}, slices,
             testing::attrs_of({{"axis", int64_t{-1}}}));
  ir::Value* heads = b.ints("heads", {0, 0, kHeads, kHeadDim});
  auto split_heads = [&](size_t slice, const std::string& name) { return b.op(OpKind::Reshape, name, {slices[slice], heads}); };
  ir::Value* q = split_heads(0, "q");
  ir::Value* k = split_heads(v.swap_kv ? 2 : 1, "k");
  ir::Value* val = split_heads(v.swap_kv ? 1 : 2, "v");
  std::vector<ir::Value*> inputs{q, k, val};
  if (v.with_mask) inputs.push_back(b.weight("mask", {kBatch, 1, 1, kSeq}, 5, -3.0, 0.0));
  ir::Value* attention = b.op(OpKind::ScaledDotProductAttention, "attention", inputs,
                              testing::attrs_of({{"scale", 0.5F}, {"qkv_layout", std::string("BSHD")}}));
  b.output(b.op(OpKind::Neg, "after", {attention}));
  if (v.extra_reader) b.output(slices[1]);
  return b.take();
}

TEST(PackedQkvAttention, SplitAndHeadReshapesBecomeOnePackedView) {
  for (bool with_mask : {false, true}) {
    auto outcome = testing::run_pass([&] { return packed_attention({with_mask, false, false}); }, use_packed_qkv_attention, kSeed);
    ASSERT_TRUE(outcome.failure.empty()) << outcome.failure;
    EXPECT_TRUE(outcome.fired);
    EXPECT_NE(outcome.text.find("qkv_layout=\"BS3HD\""), std::string::npos) << outcome.text;
    EXPECT_NE(outcome.text.find("float32[2,5,3,3,4] = Reshape(%qkv"), std::string::npos) << outcome.text;
    EXPECT_EQ(outcome.text.find("Split"), std::string::npos) << outcome.text;
    EXPECT_LE(outcome.max_error, kTolerance) << outcome.text;
  }
}

TEST(PackedQkvAttention, LeavesPartialPatternsAlone) {
  for (const Variant& v : {Variant{false, true, false}, Variant{false, false, true}}) {
    auto outcome = testing::run_pass([&] { return packed_attention(v); }, use_packed_qkv_attention, kSeed);
    ASSERT_TRUE(outcome.failure.empty()) << outcome.failure;
    EXPECT_FALSE(outcome.fired) << outcome.text;
    EXPECT_NE(outcome.text.find("Split"), std::string::npos) << outcome.text;
  }
}

}  // namespace
}  // namespace kiln::passes
