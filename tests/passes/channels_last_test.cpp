// The channels-last layout pass: before/expected text (Transposes remain only at the borders of
// a conv region, residuals included), the rewritten graph computes what the original did on
// seeded random inputs, and what it must leave alone stays.
#include <gtest/gtest.h>

#include <algorithm>

#include "engine/constant_evaluator.h"
#include "pass_test_util.h"
#include "passes/layout/channels_last.h"
#include "passes/pipeline.h"

namespace kiln::passes {
namespace {

using testing::GraphBuilder;
using testing::PassFn;
using testing::attrs_of;

constexpr double kTolerance = 1e-6;  // same arithmetic, permuted: exact up to summation order
constexpr uint64_t kSeed = 4242;

// stem conv -> max pool -> conv with the pool as residual -> global average pool -> Flatten.
ir::Graph residual_net() {
  GraphBuilder b("net");
  ir::Value* x = b.input("x", {2, 3, 8, 8});
  ir::Value* w1 = b.weight("w1", {4, 3, 3, 3}, kSeed + 1);
  ir::Value* b1 = b.weight("b1", {4}, kSeed + 2);
  ir::Value* stem = b.op(OpKind::FusedConv, "stem", {x, w1, b1},
                         attrs_of({{"pads", std::vector<int64_t>{1, 1, 1, 1}}, {"activation", std::string("Relu")}}));
  ir::Value* pool = b.op(OpKind::MaxPool, "pool", {stem},
                         attrs_of({{"kernel_shape", std::vector<int64_t>{2, 2}}, {"strides", std::vector<int64_t>{2, 2}}}));
  ir::Value* w2 = b.weight("w2", {4, 4, 1, 1}, kSeed + 3);
  ir::Value* block = b.op(OpKind::FusedConv, "block", {pool, w2, nullptr, pool},
                          attrs_of({{"activation", std::string("Relu")}}));
  ir::Value* gap = b.op(OpKind::GlobalAveragePool, "gap", {block});
  b.output(b.op(OpKind::Flatten, "flat", {gap}));
  return b.take();
}

TEST(ChannelsLast, ConvRegionKeepsTransposesOnlyAtItsBorders) {
  auto outcome = testing::run_pass(residual_net, convert_to_channels_last, kSeed);
  ASSERT_TRUE(outcome.failure.empty()) << outcome.failure;
  EXPECT_TRUE(outcome.fired);
  EXPECT_EQ(outcome.text,
            "graph net (opset 17)\n"
            "  input x: float32[2,3,8,8]\n"
            "  const b1: float32[4]\n"
            "  const w1_nhwc: float32[4,3,3,3]\n"
            "  const w2_nhwc: float32[4,1,1,4]\n"
            "  %x_nhwc: float32[2,8,8,3] = Transpose(%x) {perm=[0,2,3,1]}  # stem/to_nhwc\n"
            "  %stem_nhwc: float32[2,8,8,4] = FusedConv(%x_nhwc, %w1_nhwc, %b1) {activation=\"Relu\", channels_last=1, "
            "pads=[1,1,1,1]}  # stem\n"
            "  %pool_nhwc: float32[2,4,4,4] = MaxPool(%stem_nhwc) {channels_last=1, kernel_shape=[2,2], strides=[2,2]}  # pool\n"
            "  %block_nhwc: float32[2,4,4,4] = FusedConv(%pool_nhwc, %w2_nhwc, _, %pool_nhwc) {activation=\"Relu\", "
            "channels_last=1}  # block\n"
            "  %gap_nhwc: float32[2,1,1,4] = GlobalAveragePool(%block_nhwc) {channels_last=1}  # gap\n"
            "  %gap: float32[2,4,1,1] = Transpose(%gap_nhwc) {perm=[0,3,1,2]}  # gap/to_nchw\n"
            "  %flat: float32[2,4] = Flatten(%gap)  # flat\n"
            "  output %flat\n");
  EXPECT_LE(outcome.max_error, kTolerance);
}

TEST(ChannelsLast, LeavesNon2DVariableWeightsAndPoolIndicesAlone) {
  auto build = [] {
    GraphBuilder b("untouched");
    ir::Value* x = b.input("x", {1, 2, 6, 6});
    ir::Value* w = b.input("w", {2, 2, 3, 3});  // a runtime weight cannot be permuted at build time
    ir::Value* conv = b.op(OpKind::FusedConv, "conv", {x, w});
    ir::Value* seq = b.input("seq", {1, 2, 9});
    ir::Value* conv1d = b.op(OpKind::FusedConv, "conv1d", {seq, b.weight("w1d", {2, 2, 3}, kSeed)});
    ir::Graph g = b.take();
    ir::Value* pooled = g.add_value("pooled");
    ir::Value* indices = g.add_value("indices");
    g.add_node(OpKind::MaxPool, "pool", {conv}, {pooled, indices},
               attrs_of({{"kernel_shape", std::vector<int64_t>{2, 2}}}));
    g.add_output(pooled);
    g.add_output(indices);
    g.add_output(conv1d);
    return g;
  };
  auto outcome = testing::run_pass(build, convert_to_channels_last, kSeed);
  ASSERT_TRUE(outcome.failure.empty()) << outcome.failure;
  EXPECT_FALSE(outcome.fired);
  EXPECT_EQ(outcome.text.find("channels_last"), std::string::npos) << outcome.text;
  EXPECT_EQ(outcome.text.find("Transpose"), std::string::npos) << outcome.text;
}

// A ResNet-style net in unfused ONNX ops: conv+BN+relu stem, max pool, a bottleneck-like pair
// of convs with an identity residual, global average pool, Flatten, Gemm.
ir::Graph onnx_resnet_like() {
  GraphBuilder b("resnet_like");
  ir::Value* x = b.input("x", {2, 3, 12, 12});
  auto conv_bn = [&](const std::string& name, ir::Value* in, int64_t c, int64_t m, int64_t k, uint64_t seed) {
    const int64_t pad = k / 2;
    ir::Value* conv = b.op(OpKind::Conv, name, {in, b.weight(name + ".w", {m, c, k, k}, seed)},
                           attrs_of({{"pads", std::vector<int64_t>{pad, pad, pad, pad}}}));
    return b.op(OpKind::BatchNormalization, name + ".bn",
                {conv, b.weight(name + ".scale", {m}, seed + 1, 0.5, 1.5), b.weight(name + ".bias", {m}, seed + 2),
                 b.weight(name + ".mean", {m}, seed + 3), b.weight(name + ".var", {m}, seed + 4, 0.5, 1.5)});
  };
  ir::Value* stem = b.op(OpKind::Relu, "stem.relu", {conv_bn("stem", x, 3, 8, 3, 100)});
  ir::Value* pool = b.op(OpKind::MaxPool, "pool", {stem},
                         attrs_of({{"kernel_shape", std::vector<int64_t>{3, 3}}, {"strides", std::vector<int64_t>{2, 2}},
                                   {"pads", std::vector<int64_t>{1, 1, 1, 1}}}));
  ir::Value* a = b.op(OpKind::Relu, "a.relu", {conv_bn("a", pool, 8, 8, 1, 200)});
  ir::Value* c = conv_bn("c", a, 8, 8, 3, 300);
  ir::Value* block = b.op(OpKind::Relu, "block.relu", {b.op(OpKind::Add, "residual", {c, pool})});
  ir::Value* gap = b.op(OpKind::GlobalAveragePool, "gap", {block});
  ir::Value* flat = b.op(OpKind::Flatten, "flat", {gap});
  b.output(b.op(OpKind::Gemm, "fc", {flat, b.weight("fc.w", {5, 8}, 400), b.weight("fc.b", {5}, 401)},
                attrs_of({{"transB", int64_t{1}}})));
  return b.take();
}

size_t count_of(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

PassFn pipeline_with(bool channels_last) {
  return [channels_last](ir::Graph& g) -> Result<bool> {
    PipelineOptions options;
    options.evaluate = engine::reference_node_evaluator();
    options.channels_last = channels_last;
    KILN_RETURN_IF_ERROR(run_pipeline(g, options));
    return true;
  };
}

TEST(ChannelsLast, PipelineOptionLeavesOneTransposeAtEachBorderOfAResNet) {
  auto outcome = testing::run_pass(onnx_resnet_like, pipeline_with(true), kSeed);
  ASSERT_TRUE(outcome.failure.empty()) << outcome.failure;
  EXPECT_EQ(count_of(outcome.text, "= FusedConv("), 3u) << outcome.text;
  EXPECT_EQ(count_of(outcome.text, "channels_last=1"), 5u) << outcome.text;  // 3 convs, 2 pools
  EXPECT_EQ(count_of(outcome.text, "= Transpose("), 2u) << outcome.text;
  EXPECT_NE(outcome.text.find("= Transpose(%x) {perm=[0,2,3,1]}"), std::string::npos) << outcome.text;
  EXPECT_LE(outcome.max_error, 1e-5);

  auto plain = testing::run_pass(onnx_resnet_like, pipeline_with(false), kSeed);
  ASSERT_TRUE(plain.failure.empty()) << plain.failure;
  EXPECT_EQ(count_of(plain.text, "channels_last"), 0u) << plain.text;
  EXPECT_EQ(count_of(plain.text, "= Transpose("), 0u) << plain.text;
}

}  // namespace
}  // namespace kiln::passes
