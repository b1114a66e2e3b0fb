// Constant, ConstantOfShape, Range, OneHot, EyeLike, Trilu.
#include <gtest/gtest.h>

#include "core/onnx_dtype.h"
#include "tensor_test_util.h"

namespace kiln::testing::tensor_tests {
namespace {

TEST(TensorConstant, EveryAttributeForm) {
  Attributes tensor_value;
  Tensor value = random_tensor(DType::kBFloat16, Shape{2, 3}, 91);
  tensor_value.set("value", value);
  auto from_tensor = run_op({OpKind::Constant, {}, tensor_value});
  ASSERT_TRUE(from_tensor.ok()) << from_tensor.status().to_string();
  EXPECT_TRUE(same_tensor(from_tensor->at(0), value));

  Attributes f;
  f.set("value_float", 2.5F);
  auto scalar = run_op({OpKind::Constant, {}, f});
  ASSERT_TRUE(scalar.ok()) << scalar.status().to_string();
  EXPECT_EQ(scalar->at(0).shape(), Shape{});
  EXPECT_EQ(values_of(scalar->at(0)), (std::vector<double>{2.5}));

  Attributes fs;
  fs.set("value_floats", std::vector<float>{1, 2});
  auto floats = run_op({OpKind::Constant, {}, fs});
  ASSERT_TRUE(floats.ok());
  EXPECT_EQ(floats->at(0).dtype(), DType::kFloat32);
  EXPECT_EQ(values_of(floats->at(0)), (std::vector<double>{1, 2}));

  Attributes is;
  is.set("value_ints", std::vector<int64_t>{INT64_MAX, -3});
  auto ints = run_op({OpKind::Constant, {}, is});
  ASSERT_TRUE(ints.ok());
  EXPECT_EQ(int64s_of(ints->at(0)), (std::vector<int64_t>{INT64_MAX, -3}));

  Attributes i;
  i.set("value_int", int64_t{7});
  auto one = run_op({OpKind::Constant, {}, i});
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(int64s_of(one->at(0)), (std::vector<int64_t>{7}));

  Attributes ss;
  ss.set("value_strings", std::vector<std::string>{"ab", "", "c"});
  auto strings = run_op({OpKind::Constant, {}, ss});
  ASSERT_TRUE(strings.ok()) << strings.status().to_string();
  EXPECT_EQ(strings->at(0).strings(), (std::vector<std::string>{"ab", "", "c"}));

  Attributes s;
  s.set("value_string", std::string("hello"));
  auto string = run_op({OpKind::Constant, {}, s});
  ASSERT_TRUE(string.ok()) << string.status().to_string();
  EXPECT_EQ(string->at(0).strings(), (std::vector<std::string>{"hello"}));
}

TEST(TensorConstant, NeedsExactlyOneValue) {
  EXPECT_FALSE(run_op({OpKind::Constant, {}, {}}).ok());
  Attributes two;
  two.set("value_int", int64_t{1});
  two.set("value_float", 1.0F);
  EXPECT_FALSE(run_op({OpKind::Constant, {}, two}).ok());
}

TEST(TensorConstantOfShape, DefaultAndTypedValue) {
  auto zeros = run_op({OpKind::ConstantOfShape, {make_int64(Shape{2}, {2, 3})}, {}, 1, {0}});
  ASSERT_TRUE(zeros.ok()) << zeros.status().to_string();
  EXPECT_EQ(zeros->at(0).dtype(), DType::kFloat32);
  EXPECT_EQ(values_of(zeros->at(0)), std::vector<double>(6, 0.0));
  Attributes attrs;
  attrs.set("value", make_int64(Shape{1}, {-7}));
  auto sevens = run_op({OpKind::ConstantOfShape, {make_int64(Shape{3}, {1, 2, 2})}, attrs});
  ASSERT_TRUE(sevens.ok()) << sevens.status().to_string();
  EXPECT_EQ(sevens->at(0).shape(), (Shape{1, 2, 2}));
  EXPECT_EQ(int64s_of(sevens->at(0)), std::vector<int64_t>(4, -7));
  Attributes strings;
  strings.set("value", make_strings(Shape{1}, {"pad"}));
  auto padded = run_op({OpKind::ConstantOfShape, {make_int64(Shape{1}, {3})}, strings, 1, {0}});
  ASSERT_TRUE(padded.ok()) << padded.status().to_string();
  EXPECT_EQ(padded->at(0).strings(), std::vector<std::string>(3, "pad"));
  auto scalar = run_op({OpKind::ConstantOfShape, {make_int64(Shape{0}, {})}, attrs, 1, {0}});
  ASSERT_TRUE(scalar.ok()) << scalar.status().to_string();
  EXPECT_EQ(scalar->at(0).shape(), Shape{});
}

TEST(TensorConstantOfShape, AbsurdOrNegativeShapesAreErrors) {
  auto huge = run_op({OpKind::ConstantOfShape, {make_int64(Shape{2}, {1000000, 1000000})}});
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(run_op({OpKind::ConstantOfShape, {make_int64(Shape{2}, {INT64_MAX, INT64_MAX})}}).ok());
  EXPECT_FALSE(run_op({OpKind::ConstantOfShape, {make_int64(Shape{1}, {-1})}}).ok());
  EXPECT_FALSE(run_op({OpKind::ConstantOfShape, {make_int64(Shape{1}, {-1})}, {}, 1, {0}}).ok());
}

TEST(TensorRange, IntegersAndFloats) {
  auto ints = run_op({OpKind::Range, {make_int64(Shape{}, {10}), make_int64(Shape{}, {4}), make_int64(Shape{}, {-3})}, {}, 1, {0, 1, 2}});
  ASSERT_TRUE(ints.ok()) << ints.status().to_string();
  EXPECT_EQ(int64s_of(ints->at(0)), (std::vector<int64_t>{10, 7}));
  auto int32s = run_op({OpKind::Range, {make_int32(Shape{}, {1}), make_int32(Shape{}, {5}), make_int32(Shape{}, {2})}});
  ASSERT_TRUE(int32s.ok()) << int32s.status().to_string();
  EXPECT_EQ(values_of(int32s->at(0)), (std::vector<double>{1, 3}));
  auto floats = run_op({OpKind::Range, {make_tensor(DType::kFloat32, Shape{}, {0}), make_tensor(DType::kFloat32, Shape{}, {1}),
                                        make_tensor(DType::kFloat32, Shape{}, {0.25})},
                        {}, 1, {0, 1, 2}});
  ASSERT_TRUE(floats.ok()) << floats.status().to_string();
  EXPECT_EQ(values_of(floats->at(0)), (std::vector<double>{0, 0.25, 0.5, 0.75}));
  auto empty = run_op({OpKind::Range, {make_int64(Shape{}, {5}), make_int64(Shape{}, {1}), make_int64(Shape{}, {2})}, {}, 1, {0, 1, 2}});
  ASSERT_TRUE(empty.ok()) << empty.status().to_string();
  EXPECT_EQ(empty->at(0).shape(), (Shape{0}));
}

TEST(TensorRange, DeltaZeroAndHugeAreErrors) {
  EXPECT_FALSE(run_op({OpKind::Range, {make_int64(Shape{}, {0}), make_int64(Shape{}, {5}), make_int64(Shape{}, {0})}}).ok());
  EXPECT_FALSE(run_op({OpKind::Range, {make_int64(Shape{}, {0}), make_int64(Shape{}, {5}), make_int64(Shape{}, {0})}, {}, 1, {0, 1, 2}}).ok());
  EXPECT_FALSE(run_op({OpKind::Range, {make_int64(Shape{}, {INT64_MIN}), make_int64(Shape{}, {INT64_MAX}), make_int64(Shape{}, {1})}}).ok());
  EXPECT_FALSE(run_op({OpKind::Range, {make_tensor(DType::kFloat64, Shape{}, {0}), make_tensor(DType::kFloat64, Shape{}, {1e15}),
                                       make_tensor(DType::kFloat64, Shape{}, {1})}})
                   .ok());
}

TEST(TensorOneHot, SpecExampleWithAxisAndNegativeIndices) {
  // indices [1, 9, -3] (float), depth 10, values [0, 3], axis 0 -> shape [10, 3].
  Tensor indices = make_tensor(DType::kFloat32, Shape{3}, {1, 9, -3});
  Tensor depth = make_tensor(DType::kFloat32, Shape{}, {10});
  Tensor values = make_tensor(DType::kInt32, Shape{2}, {0, 3});
  Attributes attrs;
  attrs.set("axis", int64_t{0});
  auto out = run_op({OpKind::OneHot, {indices, depth, values}, attrs, 1, {1}});
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  ASSERT_EQ(out->at(0).shape(), (Shape{10, 3}));
  std::vector<double> expected(30, 0.0);
  expected[1 * 3 + 0] = 3;  // index 1 in column 0
  expected[9 * 3 + 1] = 3;  // index 9 in column 1
  expected[7 * 3 + 2] = 3;  // index -3 -> 7 in column 2
  EXPECT_EQ(values_of(out->at(0)), expected);
  // Default axis -1, out-of-range index gives an all-off row, string values.
  auto strings = run_op({OpKind::OneHot, {make_int64(Shape{2}, {0, 5}), make_int64(Shape{1}, {2}), make_strings(Shape{2}, {"off", "on"})}});
  ASSERT_TRUE(strings.ok()) << strings.status().to_string();
  EXPECT_EQ(strings->at(0).strings(), (std::vector<std::string>{"on", "off", "off", "off"}));
  EXPECT_FALSE(run_op({OpKind::OneHot, {indices, make_int64(Shape{}, {0}), values}}).ok());
}

TEST(TensorEyeLike, KAndDtype) {
  Attributes attrs;
  attrs.set("k", int64_t{1});
  attrs.set("dtype", static_cast<int64_t>(OnnxDataType::kInt64));
  auto out = run_op({OpKind::EyeLike, {random_tensor(DType::kFloat32, Shape{3, 4}, 95)}, attrs});
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_EQ(out->at(0).dtype(), DType::kInt64);
  EXPECT_EQ(int64s_of(out->at(0)), (std::vector<int64_t>{0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1}));
  Attributes lower;
  lower.set("k", int64_t{-2});
  auto below = run_op({OpKind::EyeLike, {make_bool(Shape{3, 2}, {false, false, false, false, false, false})}, lower});
  ASSERT_TRUE(below.ok()) << below.status().to_string();
  EXPECT_EQ(values_of(below->at(0)), (std::vector<double>{0, 0, 0, 0, 1, 0}));
  Attributes far;
  far.set("k", int64_t{INT64_MIN});
  auto none = run_op({OpKind::EyeLike, {random_tensor(DType::kFloat16, Shape{2, 2}, 96)}, far});
  ASSERT_TRUE(none.ok()) << none.status().to_string();
  EXPECT_EQ(values_of(none->at(0)), std::vector<double>(4, 0.0));
  EXPECT_FALSE(run_op({OpKind::EyeLike, {random_tensor(DType::kFloat32, Shape{2}, 97)}}).ok());
}

TEST(TensorTrilu, UpperLowerWithK) {
  // 3x3 of 1..9.
  Tensor x = make_tensor(DType::kInt64, Shape{3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  auto upper = run_op({OpKind::Trilu, {x}});
  ASSERT_TRUE(upper.ok()) << upper.status().to_string();
  EXPECT_EQ(int64s_of(upper->at(0)), (std::vector<int64_t>{1, 2, 3, 0, 5, 6, 0, 0, 9}));
  Attributes lower_attrs;
  lower_attrs.set("upper", int64_t{0});
  auto lower = run_op({OpKind::Trilu, {x, make_int64(Shape{}, {-1})}, lower_attrs});
  ASSERT_TRUE(lower.ok()) << lower.status().to_string();
  EXPECT_EQ(int64s_of(lower->at(0)), (std::vector<int64_t>{0, 0, 0, 4, 0, 0, 7, 8, 0}));
  auto shifted = run_op({OpKind::Trilu, {numbered_strings(Shape{2, 2, 2}), make_int64(Shape{}, {1})}});
  ASSERT_TRUE(shifted.ok()) << shifted.status().to_string();
  EXPECT_EQ(shifted->at(0).strings(), (std::vector<std::string>{"", "s1", "", "", "", "s5", "", ""}));
  EXPECT_FALSE(run_op({OpKind::Trilu, {make_int64(Shape{3}, {1, 2, 3})}}).ok());
}

}  // namespace
}  // namespace kiln::testing::tensor_tests
