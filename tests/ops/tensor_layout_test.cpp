// Transpose, Concat, Split, Slice, Expand, Tile: reference kernels and shape inference.
#include <gtest/gtest.h>

#include <numeric>
#include <random>

#include "tensor_test_util.h"

namespace kiln::testing::tensor_tests {
namespace {

Attributes ints_attr(const std::string& name, std::vector<int64_t> v) {
  Attributes a;
  a.set(name, std::move(v));
  return a;
}

Attributes int_attr(const std::string& name, int64_t v) {
  Attributes a;
  a.set(name, v);
  return a;
}

TEST(TensorTranspose, HandComputed) {
  // x[i][j] = 10*i + j, shape 2x3; transposed y[j][i].
  Tensor x = make_tensor(DType::kInt32, Shape{2, 3}, {0, 1, 2, 10, 11, 12});
  auto out = run_op({OpKind::Transpose, {x}});
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_EQ(out->at(0).shape(), (Shape{3, 2}));
  EXPECT_EQ(values_of(out->at(0)), (std::vector<double>{0, 10, 1, 11, 2, 12}));
}

TEST(TensorTranspose, Perm3D) {
  Tensor x = random_tensor(DType::kFloat32, Shape{2, 3, 4}, 51);
  auto out = run_op({OpKind::Transpose, {x}, ints_attr("perm", {1, 2, 0})});
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  ASSERT_EQ(out->at(0).shape(), (Shape{3, 4, 2}));
  const float* in = x.data<float>();
  const float* y = out->at(0).data<float>();
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k) EXPECT_EQ(y[(j * 4 + k) * 2 + i], in[(i * 3 + j) * 4 + k]);
}

TEST(TensorTranspose, TwiceWithInversePermIsIdentity) {
  std::mt19937 rng(52);
  for (DType dtype : {DType::kFloat32, DType::kBFloat16, DType::kBool, DType::kInt64, DType::kBytes}) {
    std::vector<int64_t> perm = {0, 1, 2, 3};
    std::shuffle(perm.begin(), perm.end(), rng);
    std::vector<int64_t> inverse(4);
    for (size_t i = 0; i < 4; ++i) inverse[static_cast<size_t>(perm[i])] = static_cast<int64_t>(i);
    Shape shape{2, 3, 1, 4};
    Tensor x = dtype == DType::kBytes ? numbered_strings(shape) : random_tensor(dtype, shape, 53, -9, 9);
    auto once = run_op({OpKind::Transpose, {x}, ints_attr("perm", perm)});
    ASSERT_TRUE(once.ok()) << once.status().to_string();
    auto twice = run_op({OpKind::Transpose, {once->at(0)}, ints_attr("perm", inverse)});
    ASSERT_TRUE(twice.ok()) << twice.status().to_string();
    EXPECT_TRUE(same_tensor(twice->at(0), x)) << dtype_name(dtype);
  }
}

TEST(TensorTranspose, BadPermAndSymbolic) {
  Tensor x = random_tensor(DType::kFloat32, Shape{2, 3}, 54);
  EXPECT_FALSE(run_op({OpKind::Transpose, {x}, ints_attr("perm", {0, 0})}).ok());
  EXPECT_FALSE(run_op({OpKind::Transpose, {x}, ints_attr("perm", {0, 1, 2})}).ok());
  EXPECT_EQ(type_string(infer_only(OpKind::Transpose, {sym_type(DType::kFloat32, {"B", "S", "12", "64"})},
                                   ints_attr("perm", {0, 2, 1, 3}))),
            "float32[B,12,S,64]");
}

TEST(TensorConcat, NegativeAxisIntsAndStrings) {
  Tensor a = make_int64(Shape{2, 1}, {1, 2});
  Tensor b = make_int64(Shape{2, 2}, {3, 4, 5, 6});
  auto out = run_op({OpKind::Concat, {a, b}, int_attr("axis", -1)});
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_EQ(int64s_of(out->at(0)), (std::vector<int64_t>{1, 3, 4, 2, 5, 6}));
  auto strings = run_op({OpKind::Concat, {make_strings(Shape{1, 2}, {"a", "b"}), make_strings(Shape{2, 2}, {"c", "d", "e", "f"})},
                         int_attr("axis", 0)});
  ASSERT_TRUE(strings.ok()) << strings.status().to_string();
  EXPECT_EQ(strings->at(0).strings(), (std::vector<std::string>{"a", "b", "c", "d", "e", "f"}));
  EXPECT_FALSE(run_op({OpKind::Concat, {a, make_int64(Shape{3, 1}, {1, 2, 3})}, int_attr("axis", 1)}).ok());
  EXPECT_FALSE(run_op({OpKind::Concat, {a, b}, int_attr("axis", 2)}).ok());
  EXPECT_EQ(type_string(infer_only(OpKind::Concat, {sym_type(DType::kFloat32, {"B", "3"}), sym_type(DType::kFloat32, {"B", "4"})},
                                   int_attr("axis", 1))),
            "float32[B,7]");
  EXPECT_EQ(type_string(infer_only(OpKind::Concat, {sym_type(DType::kFloat32, {"B", "3"}), sym_type(DType::kFloat32, {"B", "n"})},
                                   int_attr("axis", 1))),
            "float32[B,?]");
}

TEST(TensorSplit, EqualAndExplicitSizes) {
  Tensor x = make_tensor(DType::kFloat32, Shape{2, 4}, {0, 1, 2, 3, 4, 5, 6, 7});
  auto halves = run_op({OpKind::Split, {x}, int_attr("axis", 1), 2});
  ASSERT_TRUE(halves.ok()) << halves.status().to_string();
  EXPECT_EQ(values_of(halves->at(0)), (std::vector<double>{0, 1, 4, 5}));
  EXPECT_EQ(values_of(halves->at(1)), (std::vector<double>{2, 3, 6, 7}));
  auto sized = run_op({OpKind::Split, {x, make_int64(Shape{3}, {1, 0, 3})}, int_attr("axis", -1), 3, {1}});
  ASSERT_TRUE(sized.ok()) << sized.status().to_string();
  EXPECT_EQ(sized->at(0).shape(), (Shape{2, 1}));
  EXPECT_EQ(sized->at(1).shape(), (Shape{2, 0}));
  EXPECT_EQ(values_of(sized->at(2)), (std::vector<double>{1, 2, 3, 5, 6, 7}));
  EXPECT_FALSE(run_op({OpKind::Split, {x}, int_attr("axis", 1), 3}).ok());
  EXPECT_FALSE(run_op({OpKind::Split, {x, make_int64(Shape{2}, {1, 2})}, int_attr("axis", 1), 2}).ok());
}

TEST(TensorSplit, ThenConcatIsIdentity) {
  for (DType dtype : {DType::kFloat16, DType::kBool, DType::kBytes, DType::kInt64}) {
    Shape shape{3, 6, 2};
    Tensor x = dtype == DType::kBytes ? numbered_strings(shape) : random_tensor(dtype, shape, 61, -5, 5);
    auto parts = run_op({OpKind::Split, {x, make_int64(Shape{3}, {1, 3, 2})}, int_attr("axis", 1), 3, {1}});
    ASSERT_TRUE(parts.ok()) << parts.status().to_string();
    auto joined = run_op({OpKind::Concat, *parts, int_attr("axis", 1)});
    ASSERT_TRUE(joined.ok()) << joined.status().to_string();
    EXPECT_TRUE(same_tensor(joined->at(0), x)) << dtype_name(dtype);
  }
}

TEST(TensorSlice, HandComputed) {
  // data[1:2, 0:3:2] of [[1,2,3,4],[5,6,7,8]] = [[5,7]]
  Tensor x = make_tensor(DType::kFloat32, Shape{2, 4}, {1, 2, 3, 4, 5, 6, 7, 8});
  auto out = run_op({OpKind::Slice, {x, make_int64(Shape{2}, {1, 0}), make_int64(Shape{2}, {2, 3}), make_int64(Shape{2}, {0, 1}),
                                     make_int64(Shape{2}, {1, 2})},
                     {}, 1, {1, 2, 3, 4}});
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_EQ(values_of(out->at(0)), (std::vector<double>{5, 7}));
  EXPECT_EQ(out->at(0).shape(), (Shape{1, 2}));
}

TEST(TensorSlice, ClampingAndNegativeIndices) {
  Tensor x = make_tensor(DType::kInt32, Shape{2, 4}, {1, 2, 3, 4, 5, 6, 7, 8});
  // starts [0, 1], ends [-1, 1000] -> rows 0..0, cols 1..3: [[2,3,4]]
  auto out = run_op({OpKind::Slice, {x, make_int64(Shape{2}, {0, 1}), make_int64(Shape{2}, {-1, 1000})}, {}, 1, {1, 2}});
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_EQ(values_of(out->at(0)), (std::vector<double>{2, 3, 4}));
  // Negative axis with an int32 starts/ends input and INT64_MAX-style end.
  auto tail = run_op({OpKind::Slice, {x, make_int64(Shape{1}, {-2}), make_int64(Shape{1}, {INT64_MAX}), make_int64(Shape{1}, {-1})},
                      {}, 1, {1, 2, 3}});
  ASSERT_TRUE(tail.ok()) << tail.status().to_string();
  EXPECT_EQ(values_of(tail->at(0)), (std::vector<double>{3, 4, 7, 8}));
  auto empty = run_op({OpKind::Slice, {x, make_int64(Shape{1}, {3}), make_int64(Shape{1}, {1}), make_int64(Shape{1}, {1})}, {}, 1, {1, 2, 3}});
  ASSERT_TRUE(empty.ok()) << empty.status().to_string();
  EXPECT_EQ(empty->at(0).shape(), (Shape{2, 0}));
}

TEST(TensorSlice, StepMinusOneReverses) {
  for (DType dtype : {DType::kFloat32, DType::kBytes, DType::kBool}) {
    Tensor x = dtype == DType::kBytes ? numbered_strings(Shape{3, 5}) : random_tensor(dtype, Shape{3, 5}, 71);
    auto out = run_op({OpKind::Slice, {x, make_int64(Shape{1}, {-1}), make_int64(Shape{1}, {INT64_MIN}), make_int64(Shape{1}, {1}),
                                       make_int64(Shape{1}, {-1})},
                       {}, 1, {1, 2, 3, 4}});
    ASSERT_TRUE(out.ok()) << out.status().to_string();
    ASSERT_EQ(out->at(0).shape(), (Shape{3, 5}));
    // Reversing twice gives the input back; reversing once mirrors each row.
    auto back = run_op({OpKind::Slice, {out->at(0), make_int64(Shape{1}, {4}), make_int64(Shape{1}, {-6}), make_int64(Shape{1}, {1}),
                                        make_int64(Shape{1}, {-1})}});
    ASSERT_TRUE(back.ok()) << back.status().to_string();
    EXPECT_TRUE(same_tensor(back->at(0), x)) << dtype_name(dtype);
    if (dtype == DType::kBytes) {
      EXPECT_EQ(out->at(0).strings()[0], "s4");
    }
  }
  // Step -2 from 4 down to (excluding) 0: indices 4, 2.
  Tensor v = make_tensor(DType::kFloat32, Shape{5}, {0, 1, 2, 3, 4});
  auto stepped = run_op({OpKind::Slice, {v, make_int64(Shape{1}, {10}), make_int64(Shape{1}, {0}), make_int64(Shape{1}, {0}),
                                         make_int64(Shape{1}, {-2})},
                         {}, 1, {1, 2, 3, 4}});
  ASSERT_TRUE(stepped.ok()) << stepped.status().to_string();
  EXPECT_EQ(values_of(stepped->at(0)), (std::vector<double>{4, 2}));
}

TEST(TensorSlice, ErrorsAndSymbolic) {
  Tensor x = random_tensor(DType::kFloat32, Shape{4}, 72);
  EXPECT_FALSE(run_op({OpKind::Slice, {x, make_int64(Shape{1}, {0}), make_int64(Shape{1}, {2}), make_int64(Shape{1}, {0}),
                                       make_int64(Shape{1}, {0})}})
                   .ok());
  EXPECT_FALSE(run_op({OpKind::Slice, {x, make_int64(Shape{1}, {0}), make_int64(Shape{2}, {2, 3})}}).ok());
  EXPECT_FALSE(run_op({OpKind::Slice, {x, make_int64(Shape{1}, {0}), make_int64(Shape{1}, {2}), make_int64(Shape{1}, {3})}}).ok());
  EXPECT_EQ(type_string(infer_only(OpKind::Slice, {sym_type(DType::kFloat32, {"B", "S", "768"}), make_int64(Shape{1}, {0}),
                                                   make_int64(Shape{1}, {1}), make_int64(Shape{1}, {1})})),
            "float32[B,?,768]");
  EXPECT_EQ(type_string(infer_only(OpKind::Slice, {sym_type(DType::kFloat32, {"B", "S", "768"}), make_int64(Shape{1}, {-10}),
                                                   make_int64(Shape{1}, {-8}), make_int64(Shape{1}, {-1})})),
            "float32[B,S,2]");
  EXPECT_EQ(type_string(infer_only(OpKind::Slice, {sym_type(DType::kFloat32, {"B", "S"}), sym_type(DType::kInt64, {"1"}),
                                                   sym_type(DType::kInt64, {"1"})})),
            "float32[?,?]");
}

TEST(TensorExpand, BroadcastsBothWays) {
  Tensor x = make_tensor(DType::kFloat32, Shape{3, 1}, {1, 2, 3});
  auto out = run_op({OpKind::Expand, {x, make_int64(Shape{3}, {2, 1, 2})}, {}, 1, {1}});
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_EQ(out->at(0).shape(), (Shape{2, 3, 2}));
  EXPECT_EQ(values_of(out->at(0)), (std::vector<double>{1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3}));
  auto strings = run_op({OpKind::Expand, {make_strings(Shape{2}, {"x", "y"}), make_int64(Shape{2}, {2, 1})}});
  ASSERT_TRUE(strings.ok()) << strings.status().to_string();
  EXPECT_EQ(strings->at(0).strings(), (std::vector<std::string>{"x", "y", "x", "y"}));
  Tensor three = make_tensor(DType::kFloat32, Shape{3}, {1, 2, 3});
  EXPECT_FALSE(run_op({OpKind::Expand, {three, make_int64(Shape{1}, {4})}}).ok());
  EXPECT_FALSE(run_op({OpKind::Expand, {three, make_int64(Shape{1}, {4})}, {}, 1, {1}}).ok());
}

TEST(TensorExpand, AbsurdSizeIsAnErrorNotAnAllocation) {
  Tensor x = make_tensor(DType::kFloat32, Shape{1}, {1});
  auto out = run_op({OpKind::Expand, {x, make_int64(Shape{2}, {1000000, 1000000})}});
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("elements"), std::string::npos) << out.status().to_string();
  EXPECT_EQ(type_string(infer_only(OpKind::Expand, {sym_type(DType::kFloat32, {"B", "1", "S"}), make_int64(Shape{3}, {1, 12, 1})})),
            "float32[B,12,S]");
}

TEST(TensorTile, Repeats) {
  Tensor x = make_tensor(DType::kInt64, Shape{2, 2}, {1, 2, 3, 4});
  auto out = run_op({OpKind::Tile, {x, make_int64(Shape{2}, {2, 3})}, {}, 1, {1}});
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_EQ(out->at(0).shape(), (Shape{4, 6}));
  const std::vector<int64_t> row0 = {1, 2, 1, 2, 1, 2}, row1 = {3, 4, 3, 4, 3, 4};
  std::vector<int64_t> expected;
  for (int r = 0; r < 2; ++r) {
    expected.insert(expected.end(), row0.begin(), row0.end());
    expected.insert(expected.end(), row1.begin(), row1.end());
  }
  EXPECT_EQ(int64s_of(out->at(0)), expected);
  auto zero = run_op({OpKind::Tile, {numbered_strings(Shape{2}), make_int64(Shape{1}, {0})}, {}, 1, {1}});
  ASSERT_TRUE(zero.ok()) << zero.status().to_string();
  EXPECT_EQ(zero->at(0).shape(), (Shape{0}));
  EXPECT_FALSE(run_op({OpKind::Tile, {x, make_int64(Shape{1}, {2})}}).ok());
  EXPECT_FALSE(run_op({OpKind::Tile, {x, make_int64(Shape{2}, {1, -1})}}).ok());
}

}  // namespace
}  // namespace kiln::testing::tensor_tests
