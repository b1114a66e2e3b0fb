// The channels-last layout pass: before/expected text (Transposes remain only at the borders of
// a conv region, residuals included), the rewritten graph computes what the original did on
// seeded random inputs, and what it must leave alone stays.
#include <gtest/gtest.h>

#include <algorithm>

#include "pass_test_util.h"
#include "passes/layout/channels_last.h"

namespace kiln::passes {
namespace {

using testing::GraphBuilder;
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
  EXPECT_EQ(outcome.text, "");
  EXPECT_LE(outcome.max_error, kTolerance);
}

}  // namespace
}  // namespace kiln::passes
