// Gather, GatherElements, GatherND, ScatterElements, ScatterND, Compress, NonZero.
#include <gtest/gtest.h>

#include <random>

#include "tensor_test_util.h"

namespace kiln::testing::tensor_tests {
namespace {

Attributes int_attr(const std::string& name, int64_t v) {
  Attributes a;
  a.set(name, v);
  return a;
}

TEST(TensorGather, Axis0NegativeIndicesInt32) {
  Tensor data = make_tensor(DType::kFloat32, Shape{3, 2}, {1.0, 1.2, 2.3, 3.4, 4.5, 5.7});
  Tensor indices = make_int32(Shape{2, 2}, {0, 1, -1, 2});
  auto out = run_op({OpKind::Gather, {data, indices}});
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_EQ(out->at(0).shape(), (Shape{2, 2, 2}));
  EXPECT_EQ(values_of(out->at(0)), values_of(make_tensor(DType::kFloat32, Shape{8}, {1.0, 1.2, 2.3, 3.4, 4.5, 5.7, 4.5, 5.7})));
}

TEST(TensorGather, Axis1StringsAndScalarIndex) {
  Tensor data = make_strings(Shape{2, 3}, {"a", "b", "c", "d", "e", "f"});
  auto out = run_op({OpKind::Gather, {data, make_int64(Shape{2}, {2, 0})}, int_attr("axis", 1)});
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_EQ(out->at(0).strings(), (std::vector<std::string>{"c", "a", "f", "d"}));
  auto scalar = run_op({OpKind::Gather, {data, make_int64(Shape{}, {-1})}, int_attr("axis", -2)});
  ASSERT_TRUE(scalar.ok()) << scalar.status().to_string();
  EXPECT_EQ(scalar->at(0).shape(), (Shape{3}));
  EXPECT_EQ(scalar->at(0).strings(), (std::vector<std::string>{"d", "e", "f"}));
}

TEST(TensorGather, RandomAgainstManualIndexing) {
  std::mt19937_64 rng(81);
  for (DType dtype : {DType::kFloat16, DType::kInt64, DType::kBool}) {
    Tensor data = random_tensor(dtype, Shape{4, 5, 3}, rng(), -20, 20);
    std::uniform_int_distribution<int64_t> pick(-5, 4);
    std::vector<int64_t> idx(6);
    for (int64_t& i : idx) i = pick(rng);
    auto out = run_op({OpKind::Gather, {data, make_int64(Shape{2, 3}, idx)}, int_attr("axis", 1)});
    ASSERT_TRUE(out.ok()) << out.status().to_string();
    ASSERT_EQ(out->at(0).shape(), (Shape{4, 2, 3, 3}));
    const std::vector<double> in = values_of(data), got = values_of(out->at(0));
    for (int64_t a = 0; a < 4; ++a)
      for (int64_t k = 0; k < 6; ++k)
        for (int64_t c = 0; c < 3; ++c) {
          const int64_t j = idx[static_cast<size_t>(k)] < 0 ? idx[static_cast<size_t>(k)] + 5 : idx[static_cast<size_t>(k)];
          EXPECT_EQ(got[static_cast<size_t>((a * 6 + k) * 3 + c)], in[static_cast<size_t>((a * 5 + j) * 3 + c)]);
        }
  }
}

TEST(TensorGather, OutOfRangeIndexNamesIndexAndBound) {
  Tensor data = random_tensor(DType::kFloat32, Shape{3, 2}, 82);
  auto out = run_op({OpKind::Gather, {data, make_int64(Shape{2}, {0, 3})}});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(out.status().message().find("index 3"), std::string::npos) << out.status().message();
  EXPECT_NE(out.status().message().find("size 3"), std::string::npos) << out.status().message();
  EXPECT_FALSE(run_op({OpKind::Gather, {data, make_int64(Shape{1}, {-4})}}).ok());
  EXPECT_FALSE(run_op({OpKind::Gather, {data, make_tensor(DType::kFloat32, Shape{1}, {0})}}).ok());
  EXPECT_EQ(type_string(infer_only(OpKind::Gather, {sym_type(DType::kFloat32, {"30522", "768"}), sym_type(DType::kInt64, {"B", "S"})})),
            "float32[B,S,768]");
}

TEST(TensorGatherElements, SpecExamples) {
  // ONNX example: data [[1,2],[3,4]], indices [[0,0],[1,0]], axis 1 -> [[1,1],[4,3]].
  auto out = run_op({OpKind::GatherElements, {make_tensor(DType::kInt32, Shape{2, 2}, {1, 2, 3, 4}), make_int64(Shape{2, 2}, {0, 0, 1, 0})},
                     int_attr("axis", 1)});
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_EQ(values_of(out->at(0)), (std::vector<double>{1, 1, 4, 3}));
  // Negative indices, axis 0: data 3x3 of 1..9, indices [[-1,-2,0],[-2,0,0]] -> [[7,5,3],[4,2,3]].
  Tensor data = make_tensor(DType::kFloat32, Shape{3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  auto neg = run_op({OpKind::GatherElements, {data, make_int32(Shape{2, 3}, {-1, -2, 0, -2, 0, 0})}});
  ASSERT_TRUE(neg.ok()) << neg.status().to_string();
  EXPECT_EQ(values_of(neg->at(0)), (std::vector<double>{7, 5, 3, 4, 2, 3}));
  EXPECT_FALSE(run_op({OpKind::GatherElements, {data, make_int64(Shape{1, 1}, {3})}}).ok());
  EXPECT_FALSE(run_op({OpKind::GatherElements, {data, make_int64(Shape{1, 4}, {0, 0, 0, 0})}}).ok());
}

TEST(TensorGatherND, SpecExamples) {
  Tensor data = make_strings(Shape{2, 2}, {"a", "b", "c", "d"});
  auto elements = run_op({OpKind::GatherND, {data, make_int64(Shape{2, 2}, {0, 0, 1, 1})}});
  ASSERT_TRUE(elements.ok()) << elements.status().to_string();
  EXPECT_EQ(elements->at(0).strings(), (std::vector<std::string>{"a", "d"}));
  auto rows = run_op({OpKind::GatherND, {data, make_int64(Shape{2, 1}, {1, -2})}});
  ASSERT_TRUE(rows.ok()) << rows.status().to_string();
  EXPECT_EQ(rows->at(0).strings(), (std::vector<std::string>{"c", "d", "a", "b"}));
  // batch_dims = 1: data [[[0,1],[2,3]],[[4,5],[6,7]]], indices [[1],[0]] -> [[2,3],[4,5]].
  Tensor cube = make_tensor(DType::kInt32, Shape{2, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 7});
  auto batched = run_op({OpKind::GatherND, {cube, make_int64(Shape{2, 1}, {1, 0})}, int_attr("batch_dims", 1)});
  ASSERT_TRUE(batched.ok()) << batched.status().to_string();
  EXPECT_EQ(batched->at(0).shape(), (Shape{2, 2}));
  EXPECT_EQ(values_of(batched->at(0)), (std::vector<double>{2, 3, 4, 5}));
  EXPECT_FALSE(run_op({OpKind::GatherND, {cube, make_int64(Shape{1, 3}, {0, 0, 2})}}).ok());
  EXPECT_FALSE(run_op({OpKind::GatherND, {cube, make_int64(Shape{1, 4}, {0, 0, 0, 0})}}).ok());
}

TEST(TensorScatterElements, SpecExampleAndReductions) {
  // ONNX example: data zeros 3x3, indices [[1,0,2],[0,2,1]], updates [[1,1.1,1.2],[2,2.1,2.2]], axis 0.
  Tensor data(DType::kFloat32, Shape{3, 3});
  Tensor indices = make_int64(Shape{2, 3}, {1, 0, 2, 0, 2, 1});
  Tensor updates = make_tensor(DType::kFloat32, Shape{2, 3}, {1.0, 1.1, 1.2, 2.0, 2.1, 2.2});
  auto out = run_op({OpKind::ScatterElements, {data, indices, updates}});
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_EQ(values_of(out->at(0)), values_of(make_tensor(DType::kFloat32, Shape{9}, {2.0, 1.1, 0.0, 1.0, 0.0, 2.2, 0.0, 2.1, 1.2})));
  // Reduction add with a repeated negative index: [1,2,3,4,5] += at [1,-4] of [1.1, 2.1] -> [1, 5.2, 3, 4, 5].
  Tensor row = make_tensor(DType::kFloat64, Shape{1, 5}, {1, 2, 3, 4, 5});
  Attributes add;
  add.set("axis", int64_t{1});
  add.set("reduction", std::string("add"));
  auto added = run_op({OpKind::ScatterElements, {row, make_int32(Shape{1, 2}, {1, -4}), make_tensor(DType::kFloat64, Shape{1, 2}, {1.1, 2.1})}, add});
  ASSERT_TRUE(added.ok()) << added.status().to_string();
  EXPECT_NEAR(values_of(added->at(0))[1], 2 + 1.1 + 2.1, 1e-12);
  Attributes mul = add;
  mul.set("reduction", std::string("mul"));
  auto multiplied = run_op({OpKind::ScatterElements, {make_int64(Shape{1, 3}, {2, 3, 4}), make_int64(Shape{1, 2}, {2, 2}), make_int64(Shape{1, 2}, {5, 6})}, mul});
  ASSERT_TRUE(multiplied.ok()) << multiplied.status().to_string();
  EXPECT_EQ(int64s_of(multiplied->at(0)), (std::vector<int64_t>{2, 3, 120}));
}

TEST(TensorScatterElements, StringsAndErrors) {
  Tensor data = make_strings(Shape{3}, {"a", "b", "c"});
  auto out = run_op({OpKind::ScatterElements, {data, make_int64(Shape{1}, {-1}), make_strings(Shape{1}, {"z"})}});
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_EQ(out->at(0).strings(), (std::vector<std::string>{"a", "b", "z"}));
  EXPECT_EQ(data.strings()[2], "c");  // the input is not modified
  auto bad = run_op({OpKind::ScatterElements, {data, make_int64(Shape{1}, {3}), make_strings(Shape{1}, {"z"})}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("index 3"), std::string::npos) << bad.status().message();
  Attributes add;
  add.set("reduction", std::string("add"));
  EXPECT_FALSE(run_op({OpKind::ScatterElements, {data, make_int64(Shape{1}, {0}), make_strings(Shape{1}, {"z"})}, add}).ok());
}

TEST(TensorScatterND, SpecExampleAndReduction) {
  // ONNX example 1: data [1..8], indices [[4],[3],[1],[7]], updates [9,10,11,12] -> [1,11,3,10,9,6,7,12].
  Tensor data = make_int64(Shape{8}, {1, 2, 3, 4, 5, 6, 7, 8});
  Tensor indices = make_int64(Shape{4, 1}, {4, 3, 1, 7});
  auto out = run_op({OpKind::ScatterND, {data, indices, make_int64(Shape{4}, {9, 10, 11, 12})}});
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_EQ(int64s_of(out->at(0)), (std::vector<int64_t>{1, 11, 3, 10, 9, 6, 7, 12}));
  // Slices: data 2x2 bool, replace row -1.
  auto rows = run_op({OpKind::ScatterND, {make_bool(Shape{2, 2}, {false, false, false, false}), make_int64(Shape{1, 1}, {-1}),
                                          make_bool(Shape{1, 2}, {true, false})}});
  ASSERT_TRUE(rows.ok()) << rows.status().to_string();
  EXPECT_EQ(values_of(rows->at(0)), (std::vector<double>{0, 0, 1, 0}));
  Attributes mul;
  mul.set("reduction", std::string("mul"));
  auto multiplied = run_op({OpKind::ScatterND, {data, make_int64(Shape{2, 1}, {0, 0}), make_int64(Shape{2}, {3, 5})}, mul});
  ASSERT_TRUE(multiplied.ok()) << multiplied.status().to_string();
  EXPECT_EQ(int64s_of(multiplied->at(0))[0], 15);
  EXPECT_FALSE(run_op({OpKind::ScatterND, {data, make_int64(Shape{1, 1}, {8}), make_int64(Shape{1}, {0})}}).ok());
  EXPECT_FALSE(run_op({OpKind::ScatterND, {data, make_int64(Shape{1, 1}, {0}), make_int64(Shape{2}, {0, 0})}}).ok());
}

TEST(TensorCompress, AxisAndFlattened) {
  Tensor data = make_tensor(DType::kFloat32, Shape{3, 2}, {1, 2, 3, 4, 5, 6});
  auto rows = run_op({OpKind::Compress, {data, make_bool(Shape{3}, {false, true, true})}, int_attr("axis", 0), 1, {1}});
  ASSERT_TRUE(rows.ok()) << rows.status().to_string();
  EXPECT_EQ(values_of(rows->at(0)), (std::vector<double>{3, 4, 5, 6}));
  auto cols = run_op({OpKind::Compress, {data, make_bool(Shape{1}, {true})}, int_attr("axis", -1)});
  ASSERT_TRUE(cols.ok()) << cols.status().to_string();
  EXPECT_EQ(values_of(cols->at(0)), (std::vector<double>{1, 3, 5}));
  auto flat = run_op({OpKind::Compress, {numbered_strings(Shape{2, 2}), make_bool(Shape{4}, {false, true, false, true})}});
  ASSERT_TRUE(flat.ok()) << flat.status().to_string();
  EXPECT_EQ(flat->at(0).strings(), (std::vector<std::string>{"s1", "s3"}));
  EXPECT_FALSE(run_op({OpKind::Compress, {data, make_bool(Shape{4}, {true, true, true, true})}, int_attr("axis", 0)}).ok());
}

TEST(TensorNonZero, Positions) {
  auto out = run_op({OpKind::NonZero, {make_tensor(DType::kFloat16, Shape{2, 2}, {1, 0, 1, 1})}});
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_EQ(out->at(0).shape(), (Shape{2, 3}));
  EXPECT_EQ(int64s_of(out->at(0)), (std::vector<int64_t>{0, 1, 1, 0, 0, 1}));
  auto strings = run_op({OpKind::NonZero, {make_strings(Shape{3}, {"", "x", ""})}});
  ASSERT_TRUE(strings.ok()) << strings.status().to_string();
  EXPECT_EQ(int64s_of(strings->at(0)), (std::vector<int64_t>{1}));
}

}  // namespace
}  // namespace kiln::testing::tensor_tests
