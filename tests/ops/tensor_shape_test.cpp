// Reshape, Flatten, Squeeze, Unsqueeze, Shape, Size: reference kernels and shape inference.
#include <gtest/gtest.h>

#include "tensor_test_util.h"

namespace kiln::testing::tensor_tests {
namespace {

TEST(TensorReshape, ZeroCopiesAndMinusOneInfers) {
  Tensor x = random_tensor(DType::kFloat32, Shape{2, 3, 4}, 11);
  OpRun run{OpKind::Reshape, {x, make_int64(Shape{2}, {0, -1})}, {}, 1, {1}};
  auto out = run_op(run);
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_EQ(out->at(0).shape(), (Shape{2, 12}));
  EXPECT_EQ(values_of(out->at(0)), values_of(x));
}

TEST(TensorReshape, EveryDtypeKeepsElementOrder) {
  for (DType dtype : {DType::kBool, DType::kInt64, DType::kFloat16, DType::kBFloat16, DType::kUInt8}) {
    Tensor x = random_tensor(dtype, Shape{4, 3}, 12, -50, 50);
    auto out = run_op({OpKind::Reshape, {x, make_int64(Shape{3}, {2, -1, 3})}, {}, 1, {1}});
    ASSERT_TRUE(out.ok()) << dtype_name(dtype) << ": " << out.status().to_string();
    Tensor expected = *x.reshaped(Shape{2, 2, 3});
    EXPECT_TRUE(same_tensor(out->at(0), expected)) << dtype_name(dtype);
  }
}

TEST(TensorReshape, Strings) {
  Tensor x = numbered_strings(Shape{2, 3});
  auto out = run_op({OpKind::Reshape, {x, make_int64(Shape{2}, {3, 2})}, {}, 1, {1}});
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_EQ(out->at(0).shape(), (Shape{3, 2}));
  EXPECT_EQ(out->at(0).strings(), x.strings());
}

TEST(TensorReshape, AllowZeroKeepsLiteralZero) {
  Tensor x(DType::kFloat32, Shape{0, 3, 4});
  Attributes attrs;
  attrs.set("allowzero", int64_t{1});
  auto out = run_op({OpKind::Reshape, {x, make_int64(Shape{3}, {3, 4, 0})}, attrs, 1, {1}});
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_EQ(out->at(0).shape(), (Shape{3, 4, 0}));
}

TEST(TensorReshape, ShapeNotConstantStillRuns) {
  Tensor x = random_tensor(DType::kFloat32, Shape{6}, 13);
  auto out = run_op({OpKind::Reshape, {x, make_int64(Shape{2}, {3, 2})}});
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_EQ(out->at(0).shape(), (Shape{3, 2}));
}

TEST(TensorReshape, BadShapesAreErrors) {
  Tensor x = random_tensor(DType::kFloat32, Shape{2, 3}, 14);
  EXPECT_FALSE(run_op({OpKind::Reshape, {x, make_int64(Shape{1}, {4})}}).ok());
  EXPECT_FALSE(run_op({OpKind::Reshape, {x, make_int64(Shape{2}, {-1, -1})}}).ok());
  EXPECT_FALSE(run_op({OpKind::Reshape, {x, make_int64(Shape{2}, {-1, 4})}}).ok());
  EXPECT_FALSE(run_op({OpKind::Reshape, {x, make_int64(Shape{2}, {-2, 3})}}).ok());
  EXPECT_FALSE(run_op({OpKind::Reshape, {x, make_int64(Shape{1}, {4})}, {}, 1, {1}}).ok());
}

TEST(TensorReshape, SymbolicInference) {
  const ir::ValueType x = sym_type(DType::kFloat32, {"B", "S", "768"});
  EXPECT_EQ(type_string(infer_only(OpKind::Reshape, {x, make_int64(Shape{4}, {0, 0, 12, 64})})), "float32[B,S,12,64]");
  EXPECT_EQ(type_string(infer_only(OpKind::Reshape, {x, make_int64(Shape{4}, {0, 0, 12, -1})})), "float32[B,S,12,64]");
  EXPECT_EQ(type_string(infer_only(OpKind::Reshape, {x, make_int64(Shape{3}, {-1, 12, 64})})), "float32[?,12,64]");
  EXPECT_EQ(type_string(infer_only(OpKind::Reshape, {x, make_int64(Shape{2}, {0, -1})})), "float32[B,?]");
  const ir::ValueType y = sym_type(DType::kFloat32, {"B", "12", "S", "64"});
  EXPECT_EQ(type_string(infer_only(OpKind::Reshape, {y, make_int64(Shape{3}, {12, -1, 64})})), "float32[12,?,64]");
  const ir::ValueType z = sym_type(DType::kFloat32, {"B", "2048", "1", "1"});
  EXPECT_EQ(type_string(infer_only(OpKind::Reshape, {z, make_int64(Shape{2}, {0, -1})})), "float32[B,2048]");
  // A shape input that is not constant: its length still gives the rank.
  EXPECT_EQ(type_string(infer_only(OpKind::Reshape, {x, sym_type(DType::kInt64, {"3"})})), "float32[?,?,?]");
  EXPECT_EQ(type_string(infer_only(OpKind::Reshape, {x, sym_type(DType::kInt64, {"n"})})), "float32[?rank]");
  EXPECT_EQ(type_string(infer_only(OpKind::Reshape, {ir::ValueType{DType::kFloat32, std::nullopt},
                                                     make_int64(Shape{2}, {4, -1})})),
            "float32[4,?]");
}

TEST(TensorFlatten, Axes) {
  Tensor x = random_tensor(DType::kFloat16, Shape{2, 3, 4, 5}, 21);
  const std::vector<std::pair<int64_t, Shape>> cases = {
      {0, Shape{1, 120}}, {1, Shape{2, 60}}, {2, Shape{6, 20}}, {-1, Shape{24, 5}}, {4, Shape{120, 1}}};
  for (const auto& [axis, expected] : cases) {
    Attributes attrs;
    attrs.set("axis", axis);
    auto out = run_op({OpKind::Flatten, {x}, attrs});
    ASSERT_TRUE(out.ok()) << out.status().to_string();
    EXPECT_EQ(out->at(0).shape(), expected) << "axis " << axis;
    EXPECT_EQ(values_of(out->at(0)), values_of(x));
  }
  Attributes bad;
  bad.set("axis", int64_t{5});
  EXPECT_FALSE(run_op({OpKind::Flatten, {x}, bad}).ok());
}

TEST(TensorFlatten, SymbolicBatch) {
  EXPECT_EQ(type_string(infer_only(OpKind::Flatten, {sym_type(DType::kFloat32, {"N", "2048", "1", "1"})})),
            "float32[N,2048]");
}

TEST(TensorSqueeze, WithAndWithoutAxes) {
  Tensor x = numbered_strings(Shape{1, 3, 1, 2});
  auto all = run_op({OpKind::Squeeze, {x}});
  ASSERT_TRUE(all.ok()) << all.status().to_string();
  EXPECT_EQ(all->at(0).shape(), (Shape{3, 2}));
  EXPECT_EQ(all->at(0).strings(), x.strings());
  auto negative = run_op({OpKind::Squeeze, {x, make_int64(Shape{1}, {-2})}, {}, 1, {1}});
  ASSERT_TRUE(negative.ok()) << negative.status().to_string();
  EXPECT_EQ(negative->at(0).shape(), (Shape{1, 3, 2}));
  EXPECT_FALSE(run_op({OpKind::Squeeze, {x, make_int64(Shape{1}, {1})}, {}, 1, {1}}).ok());
  EXPECT_FALSE(run_op({OpKind::Squeeze, {x, make_int64(Shape{1}, {1})}}).ok());
  EXPECT_FALSE(run_op({OpKind::Squeeze, {x, make_int64(Shape{1}, {7})}}).ok());
}

TEST(TensorSqueeze, UnknownDimsGiveUnknownRank) {
  EXPECT_EQ(type_string(infer_only(OpKind::Squeeze, {sym_type(DType::kFloat32, {"N", "1"})})), "float32[?rank]");
  EXPECT_EQ(type_string(infer_only(OpKind::Squeeze, {sym_type(DType::kFloat32, {"N", "1"}), make_int64(Shape{1}, {1})})),
            "float32[N]");
}

TEST(TensorUnsqueeze, NegativeAndUnsortedAxes) {
  Tensor x = random_tensor(DType::kInt64, Shape{3, 4}, 31, -100, 100);
  auto out = run_op({OpKind::Unsqueeze, {x, make_int64(Shape{2}, {-1, 0})}, {}, 1, {1}});
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_EQ(out->at(0).shape(), (Shape{1, 3, 4, 1}));
  EXPECT_EQ(int64s_of(out->at(0)), int64s_of(x));
  auto middle = run_op({OpKind::Unsqueeze, {x, make_int64(Shape{2}, {1, 3})}, {}, 1, {1}});
  ASSERT_TRUE(middle.ok()) << middle.status().to_string();
  EXPECT_EQ(middle->at(0).shape(), (Shape{3, 1, 4, 1}));
  EXPECT_FALSE(run_op({OpKind::Unsqueeze, {x, make_int64(Shape{2}, {0, 0})}, {}, 1, {1}}).ok());
  EXPECT_FALSE(run_op({OpKind::Unsqueeze, {x, make_int64(Shape{1}, {4})}}).ok());
}

TEST(TensorUnsqueeze, ScalarAndSymbolic) {
  Tensor scalar = make_bool(Shape{}, {true});
  auto out = run_op({OpKind::Unsqueeze, {scalar, make_int64(Shape{1}, {0})}, {}, 1, {1}});
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_EQ(out->at(0).shape(), (Shape{1}));
  EXPECT_TRUE(out->at(0).data<bool>()[0]);
  EXPECT_EQ(type_string(infer_only(OpKind::Unsqueeze, {sym_type(DType::kFloat32, {"B", "S"}), make_int64(Shape{2}, {1, 2})})),
            "float32[B,1,1,S]");
}

TEST(TensorShapeOp, StartAndEnd) {
  Tensor x(DType::kBytes, Shape{2, 3, 5, 7});
  auto full = run_op({OpKind::Shape, {x}});
  ASSERT_TRUE(full.ok()) << full.status().to_string();
  EXPECT_EQ(int64s_of(full->at(0)), (std::vector<int64_t>{2, 3, 5, 7}));
  Attributes attrs;
  attrs.set("start", int64_t{1});
  attrs.set("end", int64_t{-1});
  auto part = run_op({OpKind::Shape, {x}, attrs});
  ASSERT_TRUE(part.ok()) << part.status().to_string();
  EXPECT_EQ(int64s_of(part->at(0)), (std::vector<int64_t>{3, 5}));
  Attributes clamped;
  clamped.set("start", int64_t{-10});
  clamped.set("end", int64_t{10});
  auto all = run_op({OpKind::Shape, {x}, clamped});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(int64s_of(all->at(0)).size(), 4U);
  Attributes empty;
  empty.set("start", int64_t{3});
  empty.set("end", int64_t{1});
  auto none = run_op({OpKind::Shape, {x}, empty});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->at(0).shape(), (Shape{0}));
  EXPECT_EQ(type_string(infer_only(OpKind::Shape, {sym_type(DType::kFloat32, {"B", "S"})})), "int64[2]");
}

TEST(TensorSize, CountsElements) {
  auto out = run_op({OpKind::Size, {random_tensor(DType::kBFloat16, Shape{3, 0, 2}, 41)}});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(int64s_of(out->at(0)), (std::vector<int64_t>{0}));
  auto strings = run_op({OpKind::Size, {numbered_strings(Shape{3, 5})}});
  ASSERT_TRUE(strings.ok());
  EXPECT_EQ(int64s_of(strings->at(0)), (std::vector<int64_t>{15}));
  EXPECT_EQ(strings->at(0).shape(), Shape{});
}

}  // namespace
}  // namespace kiln::testing::tensor_tests
