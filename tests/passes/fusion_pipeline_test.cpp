// The whole optimizer on a small transformer block and a small conv net, as release builds run
// it (verify_each off): the fusions compose, every value the passes created carries a type
// (the engine builder needs them), and the result computes what the original did.
#include <gtest/gtest.h>

#include <map>

#include "engine/constant_evaluator.h"
#include "pass_test_util.h"
#include "passes/pipeline.h"

namespace kiln::passes {
namespace {

using testing::GraphBuilder;
using testing::attrs_of;

constexpr double kTolerance = 1e-5;
constexpr uint64_t kSeed = 60606;
constexpr int64_t kBatch = 2, kSeq = 4, kHidden = 8, kHeads = 2, kHeadSize = 4;

// Splits [B, S, hidden] into [B, heads, S, head size] (K is left as [B, S, heads, head size] and
// transposed by the caller, as PyTorch exports do).
ir::Value* split_heads(GraphBuilder& b, const std::string& name, ir::Value* x) {
  return b.op(OpKind::Reshape, name + ".split", {x, b.ints(name + ".shape", {kBatch, kSeq, kHeads, kHeadSize})});
}

ir::Graph transformer_block() {
  GraphBuilder b("block");
  ir::Value* x = b.input("x", {kBatch, kSeq, kHidden});
  ir::Value* mask = b.input("mask", {kBatch, 1, 1, kSeq});
  auto linear = [&](const std::string& name, ir::Value* in, int64_t out, uint64_t seed) {
    ir::Value* mm = b.op(OpKind::MatMul, name, {in, b.weight(name + ".w", {in == x ? kHidden : out, out}, seed)});
    return b.op(OpKind::Add, name + ".bias", {b.weight(name + ".b", {out}, seed + 1), mm});
  };
  const Attributes heads_first = attrs_of({{"perm", std::vector<int64_t>{0, 2, 1, 3}}});
  ir::Value* q = b.op(OpKind::Transpose, "q.t", {split_heads(b, "q", linear("q", x, kHidden, 1))}, heads_first);
  ir::Value* k_t = b.op(OpKind::Transpose, "k.t", {split_heads(b, "k", linear("k", x, kHidden, 3))},
                        attrs_of({{"perm", std::vector<int64_t>{0, 2, 3, 1}}}));
  ir::Value* v = b.op(OpKind::Transpose, "v.t", {split_heads(b, "v", linear("v", x, kHidden, 5))}, heads_first);
  ir::Value* scores = b.op(OpKind::Div, "scale", {b.op(OpKind::MatMul, "qk", {q, k_t}), b.scalar("sqrt_d", 2.0)});
  ir::Value* p = b.op(OpKind::Softmax, "softmax", {b.op(OpKind::Add, "mask_add", {scores, mask})}, attrs_of({{"axis", int64_t{-1}}}));
  ir::Value* context = b.op(OpKind::Transpose, "context.t", {b.op(OpKind::MatMul, "context", {p, v})}, heads_first);
  ir::Value* merged = b.op(OpKind::Reshape, "merge", {context, b.ints("merge.shape", {kBatch, kSeq, kHidden})});
  ir::Value* h = linear("ffn", merged, kHidden, 7);
  // Decomposed erf GELU.
  ir::Value* erf = b.op(OpKind::Erf, "erf", {b.op(OpKind::Div, "gelu.div", {h, b.scalar("sqrt2", 1.4142135)})});
  ir::Value* gelu = b.op(OpKind::Mul, "gelu.half", {b.op(OpKind::Mul, "gelu.mul", {h, b.op(OpKind::Add, "gelu.add", {erf, b.scalar("one", 1.0)})}),
                                                     b.scalar("half", 0.5)});
  b.output(b.op(OpKind::Add, "residual", {x, gelu}));
  return b.take();
}

Result<bool> optimize(ir::Graph& g) {
  PipelineOptions options;
  options.evaluate = engine::reference_node_evaluator();
  options.verify_each = false;
  KILN_RETURN_IF_ERROR(run_pipeline(g, options));
  for (const auto& v : g.values())
    if (v->type().dtype == DType::kUndefined || !v->type().shape)
      return invalid_argument("value '" + v->name() + "' has no type after the pipeline");
  return true;
}

std::map<std::string, int> op_counts(const std::string& text) {
  std::map<std::string, int> counts;
  for (const char* op : {"FusedMatMul(", "ScaledDotProductAttention(", "Gelu(", "Split(", "MatMul(", "Softmax(", "Erf("}) {
    for (size_t at = text.find(std::string("= ") + op); at != std::string::npos; at = text.find(std::string("= ") + op, at + 1))
      ++counts[op];
  }
  return counts;
}

TEST(FusionPipeline, TransformerBlockFusesEndToEnd) {
  auto outcome = testing::run_pass(transformer_block, optimize, kSeed);
  ASSERT_TRUE(outcome.failure.empty()) << outcome.failure;
  const std::map<std::string, int> counts = op_counts(outcome.text);
  // Q, K, V merged into one product; the FFN product absorbed its bias and the fused Gelu.
  EXPECT_EQ(counts.count("FusedMatMul(") ? counts.at("FusedMatMul(") : 0, 2) << outcome.text;
  EXPECT_EQ(counts.count("ScaledDotProductAttention(") ? counts.at("ScaledDotProductAttention(") : 0, 1) << outcome.text;
  EXPECT_EQ(counts.count("Split(") ? counts.at("Split(") : 0, 1) << outcome.text;
  EXPECT_EQ(counts.count("MatMul("), 0u) << outcome.text;
  EXPECT_EQ(counts.count("Softmax("), 0u) << outcome.text;
  EXPECT_EQ(counts.count("Erf("), 0u) << outcome.text;
  EXPECT_NE(outcome.text.find("activation=\"Gelu\""), std::string::npos) << outcome.text;
  EXPECT_LE(outcome.max_error, kTolerance);
}

TEST(FusionPipeline, ConvBatchNormReluChainBecomesOneFusedConv) {
  auto build = [] {
    GraphBuilder b("conv_bn_relu");
    ir::Value* x = b.input("x", {1, 3, 6, 6});
    ir::Value* conv = b.op(OpKind::Conv, "conv", {x, b.weight("w", {4, 3, 3, 3}, 1)});
    ir::Value* bn = b.op(OpKind::BatchNormalization, "bn",
                         {conv, b.weight("gamma", {4}, 2, 0.5, 1.5), b.weight("beta", {4}, 3), b.weight("mean", {4}, 4),
                          b.weight("var", {4}, 5, 0.5, 2.0)});
    b.output(b.op(OpKind::Relu, "relu", {bn}));
    return b.take();
  };
  auto outcome = testing::run_pass(build, optimize, kSeed);
  ASSERT_TRUE(outcome.failure.empty()) << outcome.failure;
  EXPECT_EQ(outcome.text,
            "graph conv_bn_relu (opset 17)\n"
            "  input x: float32[1,3,6,6]\n"
            "  const conv.folded_weight: float32[4,3,3,3]\n"
            "  const conv.folded_bias: float32[4]\n"
            "  %relu: float32[1,4,4,4] = FusedConv(%x, %conv.folded_weight, %conv.folded_bias) {activation=\"Relu\"}  # conv\n"
            "  output %relu\n");
  EXPECT_LE(outcome.max_error, kTolerance);
}

}  // namespace
}  // namespace kiln::passes
