// The channel-blocking layout pass: before/expected text (conversions remain only at the borders
// of a blocked conv region, a value read by two convs is converted once, residuals included),
// the rewritten graph computes what the original did on seeded random inputs (the reference
// backend runs the blocked FusedConv), and what it must leave alone stays.
#include <gtest/gtest.h>

#include "engine/constant_evaluator.h"
#include "pass_test_util.h"
#include "passes/layout/channel_blocking.h"
#include "passes/layout/channels_last.h"
#include "passes/pipeline.h"

namespace kiln::passes {
namespace {

using testing::GraphBuilder;
using testing::attrs_of;

constexpr double kTolerance = 1e-5;  // same arithmetic, rearranged: exact up to summation order
constexpr uint64_t kSeed = 5151;

Result<bool> channels_last_then_blocked(ir::Graph& g) {
  KILN_RETURN_IF_ERROR(convert_to_channels_last(g).status());
  return convert_to_channel_blocked(g);
}

// x -> stem (3->16: 3 channels are not a block, stays channels-last) -> a (1x1, 16->32) -> b (3x3,
// 32->32, residual a); stem -> d (1x1 stride 2, 16->32). The stem's output is read by two
// blocked convs, a by b twice (as X and as Z).
ir::Graph bottleneck() {
  GraphBuilder b("bottleneck");
  ir::Value* input = b.input("x", {1, 3, 4, 4});
  ir::Value* x = b.op(OpKind::FusedConv, "stem", {input, b.weight("ws", {16, 3, 3, 3}, kSeed)},
                      attrs_of({{"pads", std::vector<int64_t>{1, 1, 1, 1}}}));
  ir::Value* a = b.op(OpKind::FusedConv, "a", {x, b.weight("wa", {32, 16, 1, 1}, kSeed + 1)},
                      attrs_of({{"activation", std::string("Relu")}}));
  ir::Value* conv_b = b.op(OpKind::FusedConv, "b", {a, b.weight("wb", {32, 32, 3, 3}, kSeed + 2), nullptr, a},
                           attrs_of({{"pads", std::vector<int64_t>{1, 1, 1, 1}}, {"activation", std::string("Relu")}}));
  ir::Value* d = b.op(OpKind::FusedConv, "d", {x, b.weight("wd", {32, 16, 1, 1}, kSeed + 3)},
                      attrs_of({{"strides", std::vector<int64_t>{2, 2}}}));
  b.output(conv_b);
  b.output(d);
  return b.take();
}

TEST(ChannelBlocking, BlockedRegionKeepsConversionsOnlyAtItsBorders) {
  auto outcome = testing::run_pass(bottleneck, channels_last_then_blocked, kSeed);
  ASSERT_TRUE(outcome.failure.empty()) << outcome.failure;
  EXPECT_TRUE(outcome.fired);
  EXPECT_EQ(outcome.text,
            "graph bottleneck (opset 17)\n"
            "  input x: float32[1,3,4,4]\n"
            "  const ws_nhwc: float32[16,3,3,3]\n"
            "  const a/split16_shape: int64[5]\n"
            "  const wa_nhwc_oihw: float32[32,16,1,1]\n"
            "  const wb_nhwc_oihw: float32[32,32,3,3]\n"
            "  const b/merge16_shape: int64[4]\n"
            "  const wd_nhwc_oihw: float32[32,16,1,1]\n"
            "  const d/merge16_shape: int64[4]\n"
            "  %x_nhwc: float32[1,4,4,3] = Transpose(%x) {perm=[0,2,3,1]}  # stem/to_nhwc\n"
            "  %stem_nhwc: float32[1,4,4,16] = FusedConv(%x_nhwc, %ws_nhwc) {channels_last=1, "
            "pads=[1,1,1,1]}  # stem\n"
            "  %stem_nhwc_split16: float32[1,4,4,1,16] = Reshape(%stem_nhwc, %a/split16_shape)  # a/split16\n"
            "  %stem_nhwc_blocked16: float32[1,1,4,4,16] = Transpose(%stem_nhwc_split16) "
            "{perm=[0,3,1,2,4]}  # a/to_blocked16\n"
            "  %a_nhwc_blocked16: float32[1,2,4,4,16] = FusedConv(%stem_nhwc_blocked16, "
            "%wa_nhwc_oihw) {activation=\"Relu\", channel_block=16}  # a\n"
            "  %b_nhwc_blocked16: float32[1,2,4,4,16] = FusedConv(%a_nhwc_blocked16, "
            "%wb_nhwc_oihw, _, %a_nhwc_blocked16) {activation=\"Relu\", channel_block=16, "
            "pads=[1,1,1,1]}  # b\n"
            "  %b_nhwc_split16: float32[1,4,4,2,16] = Transpose(%b_nhwc_blocked16) "
            "{perm=[0,2,3,1,4]}  # b/from_blocked16\n"
            "  %b_nhwc: float32[1,4,4,32] = Reshape(%b_nhwc_split16, %b/merge16_shape)  # b/merge16\n"
            "  %b: float32[1,32,4,4] = Transpose(%b_nhwc) {perm=[0,3,1,2]}  # b/to_nchw\n"
            "  %d_nhwc_blocked16: float32[1,2,2,2,16] = FusedConv(%stem_nhwc_blocked16, "
            "%wd_nhwc_oihw) {channel_block=16, strides=[2,2]}  # d\n"
            "  %d_nhwc_split16: float32[1,2,2,2,16] = Transpose(%d_nhwc_blocked16) "
            "{perm=[0,2,3,1,4]}  # d/from_blocked16\n"
            "  %d_nhwc: float32[1,2,2,32] = Reshape(%d_nhwc_split16, %d/merge16_shape)  # d/merge16\n"
            "  %d: float32[1,32,2,2] = Transpose(%d_nhwc) {perm=[0,3,1,2]}  # d/to_nchw\n"
            "  output %b\n"
            "  output %d\n");
  EXPECT_LE(outcome.max_error, kTolerance);
}

}  // namespace
}  // namespace kiln::passes
