// Shape inference of ScaledDotProductAttention in both qkv_layouts (docs/fused-ops.md): the
// output follows the operands' layout, the mask is checked against the [B, H, Sq, Sk] scores
// either way, and an unknown layout is an error.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "ir/graph.h"
#include "ir/shape_inference.h"
#include "ir/verifier.h"

namespace kiln::ir {
namespace {

struct AttentionShapes {
  SymShape q, k, v;
  std::optional<SymShape> mask;
};

// One ScaledDotProductAttention node over graph inputs; `layout` empty leaves the attribute out.
Graph attention_graph(const AttentionShapes& s, const std::string& layout) {
  Graph g;
  g.name = "attention";
  g.opset = 17;
  std::vector<Value*> inputs;
  const char* names[] = {"q", "k", "v", "mask"};
  const SymShape* shapes[] = {&s.q, &s.k, &s.v, s.mask ? &*s.mask : nullptr};
  for (size_t i = 0; i < 4 && shapes[i]; ++i) {
    Value* in = g.add_value(names[i]);
    in->set_type(ValueType{DType::kFloat16, *shapes[i]});
    g.add_input(in);
    inputs.push_back(in);
  }
  Value* out = g.add_value("out");
  Node* node = g.add_node(OpKind::ScaledDotProductAttention, "sdpa", inputs, {out});
  node->mutable_attrs().set("scale", 0.125f);
  if (!layout.empty()) node->mutable_attrs().set("qkv_layout", layout);
  g.add_output(out);
  return g;
}

const Dim kN = Dim::symbolic("N");
SymShape dims(const Dim& a, int64_t b, int64_t c, int64_t d) { return SymShape{a, Dim::known(b), Dim::known(c), Dim::known(d)}; }

TEST(AttentionSchema, SequenceMajorOutputIsBSHD) {
  // B = N, Sq = 5, Sk = 6, H = 3, D = 8, Dv = 7.
  Graph g = attention_graph({dims(kN, 5, 3, 8), dims(kN, 6, 3, 8), dims(kN, 6, 3, 7), dims(kN, 1, 1, 6)}, "BSHD");
  ASSERT_TRUE(infer_shapes(g).ok());
  EXPECT_TRUE(verify(g).ok());
  EXPECT_EQ(g.outputs()[0]->type().to_string(), "float16[N,5,3,7]");
}

TEST(AttentionSchema, HeadMajorIsTheDefault) {
  for (const std::string layout : {"", "BHSD"}) {
    Graph g = attention_graph({dims(kN, 3, 5, 8), dims(kN, 3, 6, 8), dims(kN, 3, 6, 7), dims(kN, 1, 5, 6)}, layout);
    ASSERT_TRUE(infer_shapes(g).ok()) << layout;
    EXPECT_TRUE(verify(g).ok()) << layout;
    EXPECT_EQ(g.outputs()[0]->type().to_string(), "float16[N,3,5,7]") << layout;
  }
}

TEST(AttentionSchema, SequenceMajorChecksTheRightAxes) {
  // Heads differ (3 vs 4) in BSHD's axis 2.
  Graph heads = attention_graph({dims(kN, 5, 3, 8), dims(kN, 6, 4, 8), dims(kN, 6, 4, 8), std::nullopt}, "BSHD");
  EXPECT_FALSE(infer_shapes(heads).ok());
  // K and V disagree on Sk (axis 1 in BSHD).
  Graph seq = attention_graph({dims(kN, 5, 3, 8), dims(kN, 6, 3, 8), dims(kN, 7, 3, 8), std::nullopt}, "BSHD");
  EXPECT_FALSE(infer_shapes(seq).ok());
  // The mask is [B, H, Sq, Sk] = [N, 3, 5, 6] in either layout: a [1, 1, 1, 5] mask does not fit.
  Graph mask = attention_graph({dims(kN, 5, 3, 8), dims(kN, 6, 3, 8), dims(kN, 6, 3, 8), dims(Dim::known(1), 1, 1, 5)}, "BSHD");
  EXPECT_FALSE(infer_shapes(mask).ok());
  // Per-head, per-query mask in score order [1, H, Sq, Sk] fits.
  Graph full = attention_graph({dims(kN, 5, 3, 8), dims(kN, 6, 3, 8), dims(kN, 6, 3, 8), dims(Dim::known(1), 3, 5, 6)}, "BSHD");
  EXPECT_TRUE(infer_shapes(full).ok());
}

SymShape packed(const Dim& b, int64_t s, int64_t slots, int64_t h, int64_t d) {
  return SymShape{b, Dim::known(s), Dim::known(slots), Dim::known(h), Dim::known(d)};
}

TEST(AttentionSchema, PackedOperandsGiveABshdOutput) {
  // B = N, S = 5, H = 3, D = 8: three [N, 5, 3, 3, 8] operands, a padding mask.
  const SymShape qkv = packed(kN, 5, 3, 3, 8);
  Graph g = attention_graph({qkv, qkv, qkv, dims(kN, 1, 1, 5)}, "BS3HD");
  ASSERT_TRUE(infer_shapes(g).ok());
  EXPECT_TRUE(verify(g).ok());
  EXPECT_EQ(g.outputs()[0]->type().to_string(), "float16[N,5,3,8]");
}

TEST(AttentionSchema, PackedOperandsNeedThreeSlotsAndRankFive) {
  const SymShape two = packed(kN, 5, 2, 3, 8);
  Graph slots = attention_graph({two, two, two, std::nullopt}, "BS3HD");
  const Status s = infer_shapes(slots);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("3 slots"), std::string::npos) << s.message();
  Graph rank = attention_graph({dims(kN, 5, 3, 8), dims(kN, 5, 3, 8), dims(kN, 5, 3, 8), std::nullopt}, "BS3HD");
  const Status r = infer_shapes(rank);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("5-D"), std::string::npos) << r.message();
}

TEST(AttentionSchema, RejectsUnknownLayout) {
  Graph g = attention_graph({dims(kN, 3, 5, 8), dims(kN, 3, 6, 8), dims(kN, 3, 6, 8), std::nullopt}, "BSDH");
  const Status s = infer_shapes(g);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("qkv_layout"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace kiln::ir
