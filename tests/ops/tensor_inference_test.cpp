// Shape inference of the tensor family with symbolic, unknown and constant inputs: unknowns give
// unknown dims (never errors), constants give exact shapes.
#include <gtest/gtest.h>

#include "tensor_test_util.h"

namespace kiln::testing::tensor_tests {
namespace {

const ir::ValueType kUnknownRank{DType::kFloat32, std::nullopt};

Attributes int_attr(const std::string& name, int64_t v) {
  Attributes a;
  a.set(name, v);
  return a;
}

TEST(TensorInference, SplitSymbolicAndConstantSizes) {
  const ir::ValueType x = sym_type(DType::kFloat16, {"B", "S", "2304"});
  auto equal = infer_only(OpKind::Split, {x}, int_attr("axis", 2), 3);
  EXPECT_EQ(type_string(equal, 0), "float16[B,S,768]");
  EXPECT_EQ(type_string(equal, 2), "float16[B,S,768]");
  auto sized = infer_only(OpKind::Split, {x, make_int64(Shape{2}, {2300, 4})}, int_attr("axis", -1), 2);
  EXPECT_EQ(type_string(sized, 1), "float16[B,S,4]");
  auto runtime = infer_only(OpKind::Split, {x, sym_type(DType::kInt64, {"2"})}, int_attr("axis", 1), 2);
  EXPECT_EQ(type_string(runtime, 0), "float16[B,?,2304]");
  EXPECT_FALSE(infer_only(OpKind::Split, {x, make_int64(Shape{2}, {1, 4})}, int_attr("axis", 2), 2).ok());
}

TEST(TensorInference, UnknownRankNeverErrors) {
  for (OpKind op : {OpKind::Transpose, OpKind::Flatten, OpKind::Squeeze, OpKind::Shape, OpKind::Size, OpKind::NonZero,
                    OpKind::Trilu, OpKind::EyeLike}) {
    auto r = infer_only(op, {kUnknownRank});
    EXPECT_TRUE(r.ok()) << op_kind_name(op) << ": " << r.status().to_string();
  }
  const ir::ValueType indices{DType::kInt64, std::nullopt};
  for (OpKind op : {OpKind::Gather, OpKind::GatherElements, OpKind::GatherND}) {
    auto r = infer_only(op, {kUnknownRank, indices});
    EXPECT_TRUE(r.ok()) << op_kind_name(op) << ": " << r.status().to_string();
  }
  for (OpKind op : {OpKind::Reshape, OpKind::Unsqueeze, OpKind::Expand, OpKind::Tile}) {
    auto r = infer_only(op, {kUnknownRank, indices});
    EXPECT_TRUE(r.ok()) << op_kind_name(op) << ": " << r.status().to_string();
  }
  EXPECT_TRUE(infer_only(OpKind::Slice, {kUnknownRank, indices, indices}).ok());
  EXPECT_TRUE(infer_only(OpKind::Concat, {kUnknownRank, kUnknownRank}, int_attr("axis", 0)).ok());
  EXPECT_EQ(type_string(infer_only(OpKind::Shape, {kUnknownRank})), "int64[?]");
  EXPECT_EQ(type_string(infer_only(OpKind::NonZero, {sym_type(DType::kBool, {"B", "3"})})), "int64[2,?]");
}

TEST(TensorInference, GatherNDAndOneHot) {
  EXPECT_EQ(type_string(infer_only(OpKind::GatherND, {sym_type(DType::kFloat32, {"B", "4", "5", "6"}), sym_type(DType::kInt64, {"B", "N", "2"})},
                                   int_attr("batch_dims", 1))),
            "float32[B,N,6]");
  EXPECT_EQ(type_string(infer_only(OpKind::OneHot, {sym_type(DType::kInt64, {"B", "S"}), make_int64(Shape{}, {10}),
                                                    ir::ValueType{DType::kFloat32, ir::SymShape{ir::Dim::known(2)}}},
                                   int_attr("axis", 1))),
            "float32[B,10,S]");
  EXPECT_EQ(type_string(infer_only(OpKind::OneHot, {sym_type(DType::kInt64, {"B"}), sym_type(DType::kInt64, {}),
                                                    ir::ValueType{DType::kFloat32, ir::SymShape{ir::Dim::known(2)}}})),
            "float32[B,?]");
}

TEST(TensorInference, RangeAndConstantOfShape) {
  EXPECT_EQ(type_string(infer_only(OpKind::Range, {make_int64(Shape{}, {0}), sym_type(DType::kInt64, {}), make_int64(Shape{}, {1})})),
            "int64[?]");
  EXPECT_EQ(type_string(infer_only(OpKind::Range, {make_int64(Shape{}, {INT64_MAX - 2}), make_int64(Shape{}, {INT64_MAX}),
                                                   make_int64(Shape{}, {1})})),
            "int64[2]");
  Attributes value;
  value.set("value", make_int64(Shape{1}, {1}));
  EXPECT_EQ(type_string(infer_only(OpKind::ConstantOfShape, {sym_type(DType::kInt64, {"3"})}, value)), "int64[?,?,?]");
  EXPECT_EQ(type_string(infer_only(OpKind::ConstantOfShape, {make_int64(Shape{2}, {4, 5})})), "float32[4,5]");
}

TEST(TensorInference, RunOpAgreesOnLargeIntegerRange) {
  auto out = run_op({OpKind::Range, {make_int64(Shape{}, {INT64_MAX - 2}), make_int64(Shape{}, {INT64_MAX}), make_int64(Shape{}, {1})},
                     {}, 1, {0, 1, 2}});
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_EQ(int64s_of(out->at(0)), (std::vector<int64_t>{INT64_MAX - 2, INT64_MAX - 1}));
}

TEST(TensorInference, ScatterReductionsOnNarrowFloats) {
  for (DType dtype : {DType::kFloat16, DType::kBFloat16}) {
    Tensor data = make_tensor(dtype, Shape{4}, {1, 2, 3, 4});
    Attributes add;
    add.set("reduction", std::string("add"));
    auto out = run_op({OpKind::ScatterND, {data, make_int64(Shape{2, 1}, {-1, 0}), make_tensor(dtype, Shape{2}, {0.5, 2})}, add});
    ASSERT_TRUE(out.ok()) << out.status().to_string();
    EXPECT_EQ(values_of(out->at(0)), (std::vector<double>{3, 2, 3, 4.5})) << dtype_name(dtype);
  }
}

}  // namespace
}  // namespace kiln::testing::tensor_tests
