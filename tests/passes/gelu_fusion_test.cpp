// GELU fusion: every exported grouping of the erf form, the tanh form with Pow or Mul cubes,
// and a chain whose intermediate is read elsewhere; each checked numerically.
#include <gtest/gtest.h>

#include "pass_test_util.h"
#include "passes/fuse/gelu_fusion.h"

namespace kiln::passes {
namespace {

using testing::GraphBuilder;

// The decomposition approximates the Gelu kernel's exact constants (exporters round them).
constexpr double kTolerance = 1e-5;
constexpr uint64_t kSeed = 2026;

enum class Scaling { kDivBySqrt2, kMulByInverse };
enum class Grouping { kXTimesSumThenHalf, kHalfXTimesSum, kXTimesHalfSum };

struct ErfCase {
  Scaling scaling;
  Grouping grouping;
  bool swap_operands;  // commuted Mul/Add operand orders
};

ir::Graph erf_gelu(const ErfCase& c) {
  GraphBuilder b("gelu");
  ir::Value* x = b.input("x", {2, 8});
  ir::Value* scaled = c.scaling == Scaling::kDivBySqrt2 ? b.op(OpKind::Div, "div", {x, b.scalar("sqrt2", 1.4142135)})
                                                        : b.op(OpKind::Mul, "scale", {b.scalar("inv_sqrt2", 0.70710677), x});
  ir::Value* erf = b.op(OpKind::Erf, "erf", {scaled});
  ir::Value* one = b.scalar("one", 1.0);
  ir::Value* sum = b.op(OpKind::Add, "add", c.swap_operands ? std::vector<ir::Value*>{one, erf} : std::vector<ir::Value*>{erf, one});
  ir::Value* half = b.scalar("half", 0.5);
  auto mul = [&](const std::string& name, ir::Value* p, ir::Value* q) {
    return b.op(OpKind::Mul, name, c.swap_operands ? std::vector<ir::Value*>{q, p} : std::vector<ir::Value*>{p, q});
  };
  ir::Value* y = nullptr;
  switch (c.grouping) {
    case Grouping::kXTimesSumThenHalf: y = mul("mul2", mul("mul1", x, sum), half); break;
    case Grouping::kHalfXTimesSum: y = mul("mul2", mul("mul1", x, half), sum); break;
    case Grouping::kXTimesHalfSum: y = mul("mul2", x, mul("mul1", sum, half)); break;
  }
  ir::Value* out = b.op(OpKind::Neg, "after", {y});  // a reader after the pattern
  b.output(out);
  return b.take();
}

TEST(GeluFusion, EveryErfVariantBecomesOneGelu) {
  for (Scaling scaling : {Scaling::kDivBySqrt2, Scaling::kMulByInverse}) {
    for (Grouping grouping : {Grouping::kXTimesSumThenHalf, Grouping::kHalfXTimesSum, Grouping::kXTimesHalfSum}) {
      for (bool swap : {false, true}) {
        const ErfCase c{scaling, grouping, swap};
        auto outcome = testing::run_pass([&] { return erf_gelu(c); }, fuse_gelu, kSeed);
        const std::string label = "scaling " + std::to_string(static_cast<int>(scaling)) + " grouping " +
                                  std::to_string(static_cast<int>(grouping)) + " swap " + std::to_string(swap);
        ASSERT_TRUE(outcome.failure.empty()) << label << ": " << outcome.failure;
        EXPECT_TRUE(outcome.fired) << label;
        EXPECT_EQ(outcome.text,
                  "graph gelu (opset 17)\n"
                  "  input x: float32[2,8]\n"
                  "  %mul2: float32[2,8] = Gelu(%x) {approximate=\"none\"}  # mul2\n"
                  "  %after: float32[2,8] = Neg(%mul2)  # after\n"
                  "  output %after\n")
            << label;
        EXPECT_LE(outcome.max_error, kTolerance) << label;
      }
    }
  }
}

ir::Graph tanh_gelu(bool pow_cube) {
  GraphBuilder b("gelu_tanh");
  ir::Value* x = b.input("x", {3, 5});
  ir::Value* cube = pow_cube ? b.op(OpKind::Pow, "cube", {x, b.scalar("three", 3.0)})
                             : b.op(OpKind::Mul, "cube", {x, b.op(OpKind::Mul, "square", {x, x})});
  ir::Value* term = b.op(OpKind::Mul, "term", {cube, b.scalar("c", 0.044715)});
  ir::Value* inner = b.op(OpKind::Add, "inner", {x, term});
  ir::Value* scaled = b.op(OpKind::Mul, "scaled", {b.scalar("k", 0.7978846), inner});
  ir::Value* t = b.op(OpKind::Tanh, "tanh", {scaled});
  ir::Value* sum = b.op(OpKind::Add, "sum", {t, b.scalar("one", 1.0)});
  ir::Value* half_x = b.op(OpKind::Mul, "half_x", {x, b.scalar("half", 0.5)});
  b.output(b.op(OpKind::Mul, "y", {half_x, sum}));
  return b.take();
}

TEST(GeluFusion, TanhFormWithPowOrMulCube) {
  for (bool pow_cube : {true, false}) {
    auto outcome = testing::run_pass([&] { return tanh_gelu(pow_cube); }, fuse_gelu, kSeed);
    ASSERT_TRUE(outcome.failure.empty()) << outcome.failure;
    EXPECT_TRUE(outcome.fired) << pow_cube;
    EXPECT_EQ(outcome.text,
              "graph gelu_tanh (opset 17)\n"
              "  input x: float32[3,5]\n"
              "  %y: float32[3,5] = Gelu(%x) {approximate=\"tanh\"}  # y\n"
              "  output %y\n")
        << pow_cube;
    EXPECT_LE(outcome.max_error, kTolerance);
  }
}

TEST(GeluFusion, IntermediateReadElsewhereOrWrongConstantStays) {
  auto shared = [] {
    GraphBuilder b("shared");
    ir::Value* x = b.input("x", {4});
    ir::Value* erf = b.op(OpKind::Erf, "erf", {b.op(OpKind::Div, "div", {x, b.scalar("sqrt2", 1.4142135)})});
    ir::Value* sum = b.op(OpKind::Add, "add", {erf, b.scalar("one", 1.0)});
    b.output(b.op(OpKind::Mul, "mul2", {b.op(OpKind::Mul, "mul1", {x, sum}), b.scalar("half", 0.5)}));
    b.output(erf);
    return b.take();
  };
  auto outcome = testing::run_pass(shared, fuse_gelu, kSeed);
  ASSERT_TRUE(outcome.failure.empty()) << outcome.failure;
  EXPECT_FALSE(outcome.fired);

  auto wrong = [] {
    GraphBuilder b("wrong");
    ir::Value* x = b.input("x", {4});
    ir::Value* erf = b.op(OpKind::Erf, "erf", {b.op(OpKind::Div, "div", {x, b.scalar("two", 2.0)})});
    ir::Value* sum = b.op(OpKind::Add, "add", {erf, b.scalar("one", 1.0)});
    b.output(b.op(OpKind::Mul, "mul2", {b.op(OpKind::Mul, "mul1", {x, sum}), b.scalar("half", 0.5)}));
    return b.take();
  };
  outcome = testing::run_pass(wrong, fuse_gelu, kSeed);
  ASSERT_TRUE(outcome.failure.empty()) << outcome.failure;
  EXPECT_FALSE(outcome.fired);
}

}  // namespace
}  // namespace kiln::passes
