// Float16/bfloat16 lowering: Casts at the float32 interface, weights converted, and float32
// constants beyond float16's range saturating rather than turning into infinities.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "ir/text.h"
#include "kiln/float_types.h"
#include "pass_test_util.h"
#include "passes/precision/lower_float_precision.h"

namespace kiln::passes {
namespace {

using testing::GraphBuilder;

constexpr uint64_t kSeed = 77;
constexpr double kHalfTolerance = 1e-2;

// The additive attention mask exporters emit: (1 - keep) * lowest_float32, added to scores.
ir::Graph masked_softmax() {
  GraphBuilder b("masked_softmax");
  ir::Value* scores = b.input("scores", {2, 8});
  ir::Value* keep = b.constant("keep", {1, 8}, {1, 1, 1, 1, 1, 0, 0, 0});
  ir::Value* lowest = b.scalar("lowest", static_cast<double>(std::numeric_limits<float>::lowest()));
  ir::Value* dropped = b.op(OpKind::Sub, "dropped", {b.scalar("one", 1.0), keep});
  ir::Value* bias = b.op(OpKind::Mul, "bias", {dropped, lowest});
  ir::Value* masked = b.op(OpKind::Add, "masked", {scores, bias});
  b.output(b.op(OpKind::Softmax, "probs", {masked}, testing::attrs_of({{"axis", int64_t{-1}}})));
  return b.take();
}

Result<bool> to_half(ir::Graph& g) { return lower_float_precision(g, DType::kFloat16); }

TEST(LowerFloatPrecision, AttentionMaskWithLowestFloat32StaysFiniteInFloat16) {
  auto outcome = testing::run_pass(masked_softmax, to_half, kSeed);
  ASSERT_TRUE(outcome.failure.empty()) << outcome.failure;
  EXPECT_TRUE(outcome.fired);
  // Infinity here would make 0 * -inf = NaN in the kept positions.
  EXPECT_LE(outcome.max_error, kHalfTolerance) << outcome.text;
  EXPECT_NE(outcome.text.find("input scores: float32[2,8]"), std::string::npos) << outcome.text;
  EXPECT_NE(outcome.text.find("Cast"), std::string::npos) << outcome.text;
}

TEST(LowerFloatPrecision, OutOfRangeConstantsSaturateAndInfinitiesStay) {
  GraphBuilder b("constants");
  ir::Value* x = b.input("x", {4});
  const double inf = std::numeric_limits<double>::infinity();
  ir::Value* c = b.constant("c", {4}, {1e6, -1e9, inf, 0.5});
  b.output(b.op(OpKind::Add, "sum", {x, c}));
  ir::Graph graph = b.take();
  auto changed = lower_float_precision(graph, DType::kFloat16);
  ASSERT_TRUE(changed.ok()) << changed.status().to_string();
  ASSERT_TRUE(*changed);
  const ir::Value* lowered = nullptr;
  for (const auto& v : graph.values())
    if (v->name() == "c") lowered = v.get();
  ASSERT_NE(lowered, nullptr);
  ASSERT_TRUE(lowered->is_constant());
  ASSERT_EQ(lowered->constant()->dtype(), DType::kFloat16);
  const Float16* data = lowered->constant()->data<Float16>();
  EXPECT_EQ(static_cast<float>(data[0]), 65504.0F);
  EXPECT_EQ(static_cast<float>(data[1]), -65504.0F);
  EXPECT_TRUE(std::isinf(static_cast<float>(data[2])));
  EXPECT_EQ(static_cast<float>(data[3]), 0.5F);
}

TEST(LowerFloatPrecision, BFloat16KeepsFloat32Range) {
  GraphBuilder b("bf16");
  ir::Value* x = b.input("x", {2});
  b.output(b.op(OpKind::Mul, "scaled", {x, b.constant("big", {2}, {1e30, -1e30})}));
  ir::Graph graph = b.take();
  auto changed = lower_float_precision(graph, DType::kBFloat16);
  ASSERT_TRUE(changed.ok()) << changed.status().to_string();
  for (const auto& v : graph.values())
    if (v->name() == "big") {
      const BFloat16* data = v->constant()->data<BFloat16>();
      EXPECT_NEAR(static_cast<float>(data[0]), 1e30F, 1e28F);
      EXPECT_NEAR(static_cast<float>(data[1]), -1e30F, 1e28F);
    }
}

// --low-precision-io: the float32 interface itself becomes float16, so no Casts remain and an
// existing Cast to float32 at the output becomes a Cast to float16.
TEST(LowerFloatPrecision, LoweredInterfaceTakesTheTargetTypeWithoutCasts) {
  ir::Graph graph = masked_softmax();
  auto changed = lower_float_precision(graph, DType::kFloat16, FloatInterface::kLower);
  ASSERT_TRUE(changed.ok()) << changed.status().to_string();
  EXPECT_TRUE(*changed);
  const std::string text = ir::to_text(graph);
  EXPECT_NE(text.find("input scores: float16[2,8]"), std::string::npos) << text;
  EXPECT_NE(text.find("%probs: float16[2,8]"), std::string::npos) << text;
  EXPECT_EQ(text.find("Cast"), std::string::npos) << text;
  EXPECT_EQ(text.find("float32"), std::string::npos) << text;

  GraphBuilder b("cast_out");
  ir::Value* ids = b.input("ids", {3}, DType::kInt64);
  b.output(b.op(OpKind::Cast, "as_float", {ids}, testing::attrs_of({{"to", int64_t{1}}})));  // to float32
  ir::Graph casting = b.take();
  ASSERT_TRUE(lower_float_precision(casting, DType::kFloat16, FloatInterface::kLower).ok());
  const std::string cast_text = ir::to_text(casting);
  EXPECT_NE(cast_text.find("input ids: int64[3]"), std::string::npos) << cast_text;
  EXPECT_NE(cast_text.find("%as_float: float16[3] = Cast(%ids) {to=10}"), std::string::npos) << cast_text;
}

}  // namespace
}  // namespace kiln::passes
