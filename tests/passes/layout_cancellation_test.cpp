// Transpose and Reshape cancellation: before/expected text, graph outputs kept, and the result
// checked numerically.
#include <gtest/gtest.h>

#include "pass_test_util.h"
#include "passes/layout/reshape_cancellation.h"
#include "passes/layout/transpose_cancellation.h"

namespace kiln::passes {
namespace {

using testing::GraphBuilder;
using testing::attrs_of;

constexpr double kTolerance = 0.0;  // pure data movement: bit exact
constexpr uint64_t kSeed = 8080;

Attributes perm(std::vector<int64_t> p) { return attrs_of({{"perm", std::move(p)}}); }

TEST(TransposeCancellation, InverseTransposesVanishAndOthersCompose) {
  auto build = [] {
    GraphBuilder b("transposes");
    ir::Value* x = b.input("x", {2, 3, 4});
    ir::Value* t1 = b.op(OpKind::Transpose, "t1", {x}, perm({1, 2, 0}));
    ir::Value* back = b.op(OpKind::Transpose, "back", {t1}, perm({2, 0, 1}));
    ir::Value* t2 = b.op(OpKind::Transpose, "t2", {back}, perm({0, 2, 1}));
    ir::Value* t3 = b.op(OpKind::Transpose, "t3", {t2}, perm({2, 1, 0}));
    b.output(b.op(OpKind::Relu, "relu", {t3}));
    return b.take();
  };
  auto outcome = testing::run_pass(build, cancel_transposes, kSeed);
  ASSERT_TRUE(outcome.failure.empty()) << outcome.failure;
  EXPECT_TRUE(outcome.fired);
  EXPECT_EQ(outcome.text,
            "graph transposes (opset 17)\n"
            "  input x: float32[2,3,4]\n"
            "  %t3: float32[3,4,2] = Transpose(%x) {perm=[1,2,0]}  # t3\n"
            "  %relu: float32[3,4,2] = Relu(%t3)  # relu\n"
            "  output %relu\n");
  EXPECT_LE(outcome.max_error, kTolerance);
}

TEST(TransposeCancellation, ChainOfFourCyclicTransposesIsOne) {
  auto build = [] {
    GraphBuilder b("cycle");
    ir::Value* v = b.input("x", {2, 3, 4});
    for (const char* name : {"t1", "t2", "t3", "t4"}) v = b.op(OpKind::Transpose, name, {v}, perm({1, 2, 0}));
    b.output(b.op(OpKind::Neg, "neg", {v}));
    return b.take();
  };
  auto outcome = testing::run_pass(build, cancel_transposes, kSeed);
  ASSERT_TRUE(outcome.failure.empty()) << outcome.failure;
  EXPECT_TRUE(outcome.fired);
  EXPECT_EQ(outcome.text,
            "graph cycle (opset 17)\n"
            "  input x: float32[2,3,4]\n"
            "  %t4: float32[3,4,2] = Transpose(%x) {perm=[1,2,0]}  # t4\n"
            "  %neg: float32[3,4,2] = Neg(%t4)  # neg\n"
            "  output %neg\n");
  EXPECT_LE(outcome.max_error, kTolerance);
}

TEST(TransposeCancellation, InnerTransposeReadElsewhereAndIdentityOutputStay) {
  auto build = [] {
    GraphBuilder b("kept");
    ir::Value* x = b.input("x", {2, 3});
    ir::Value* t1 = b.op(OpKind::Transpose, "t1", {x});
    b.output(b.op(OpKind::Transpose, "t2", {t1}));
    b.output(b.op(OpKind::Neg, "neg", {t1}));
    return b.take();
  };
  auto outcome = testing::run_pass(build, cancel_transposes, kSeed);
  ASSERT_TRUE(outcome.failure.empty()) << outcome.failure;
  EXPECT_FALSE(outcome.fired);
}

TEST(ReshapeCancellation, ChainsCollapseAndNoOpReshapesVanish) {
  auto build = [] {
    GraphBuilder b("reshapes");
    ir::Value* x = b.input("x", {2, 3, 4});
    ir::Value* flat = b.op(OpKind::Reshape, "flat", {x, b.ints("s1", {6, 4})});
    ir::Value* again = b.op(OpKind::Reshape, "again", {flat, b.ints("s2", {4, -1})});
    ir::Value* same = b.op(OpKind::Reshape, "same", {again, b.ints("s3", {4, 6})});
    b.output(b.op(OpKind::Relu, "relu", {same}));
    return b.take();
  };
  auto outcome = testing::run_pass(build, cancel_reshapes, kSeed);
  ASSERT_TRUE(outcome.failure.empty()) << outcome.failure;
  EXPECT_TRUE(outcome.fired);
  EXPECT_EQ(outcome.text,
            "graph reshapes (opset 17)\n"
            "  input x: float32[2,3,4]\n"
            "  const s2: int64[2]\n"
            "  %again: float32[4,6] = Reshape(%x, %s2)  # again\n"
            "  %relu: float32[4,6] = Relu(%again)  # relu\n"
            "  output %relu\n");
  EXPECT_LE(outcome.max_error, kTolerance);
}

TEST(ReshapeCancellation, ZeroCopyingTargetAndGraphOutputStay) {
  auto build = [] {
    GraphBuilder b("kept");
    ir::Value* x = b.input("x", {2, 3, 4});
    ir::Value* flat = b.op(OpKind::Reshape, "flat", {x, b.ints("s1", {6, 4})});
    b.output(b.op(OpKind::Reshape, "copy_dim", {flat, b.ints("s2", {0, 2, 2})}));
    b.output(b.op(OpKind::Reshape, "same", {x, b.ints("s3", {2, 3, 4})}));
    return b.take();
  };
  auto outcome = testing::run_pass(build, cancel_reshapes, kSeed);
  ASSERT_TRUE(outcome.failure.empty()) << outcome.failure;
  EXPECT_FALSE(outcome.fired);
}

}  // namespace
}  // namespace kiln::passes
