// Dims from model data (declared shapes, constant inputs, attributes) whose products or sums do
// not fit in int64 must make shape inference fail with INVALID_ARGUMENT naming the node, never
// overflow (these were found by the importer fuzzer; the tests run under UBSan).
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

#include "kiln/shape.h"
#include "kiln/tensor.h"
#include "model_builder.h"

namespace kiln::onnx_test {
namespace {

using onnx::TensorProto;

constexpr int64_t kMaxDim = std::numeric_limits<int64_t>::max();
constexpr int64_t kHugeDim = int64_t{1} << 40;  // its square overflows int64

// A value of shape `dims` made by ConstantOfShape: declared graph inputs this large are already
// rejected by the importer, but constant-driven shapes reach inference.
void constant_of_shape(ModelBuilder& m, const std::string& name, const std::vector<int64_t>& dims) {
  m.int64_initializer(name + "_shape", {static_cast<int64_t>(dims.size())}, dims);
  m.node("ConstantOfShape", {name + "_shape"}, {name}, name + "_source");
}

// Imports with shape inference and expects an overflow error that names `node_name`.
void expect_overflow_error(const ModelBuilder& m, const std::string& node_name) {
  auto graph = m.import(/*infer_and_verify=*/true);
  ASSERT_FALSE(graph.ok()) << "inference accepted a shape that overflows int64";
  EXPECT_EQ(graph.status().code(), StatusCode::kInvalidArgument) << graph.status().message();
  EXPECT_NE(graph.status().message().find(node_name), std::string::npos) << graph.status().message();
  EXPECT_NE(graph.status().message().find("overflow"), std::string::npos) << graph.status().message();
}

TEST(OverflowRobustness, ReshapeToShapeWhoseElementCountOverflows) {
  ModelBuilder m;
  m.input("x", TensorProto::FLOAT, std::vector<int64_t>{2, 3});
  m.int64_initializer("shape", {2}, {377, 144115188075847551});
  m.node("Reshape", {"x", "shape"}, {"y"}, "reshape_overflow");
  m.output("y");
  expect_overflow_error(m, "reshape_overflow");
}

TEST(OverflowRobustness, ReshapeOfZeroSizedInputIsNotAnOverflow) {
  ModelBuilder m;
  constant_of_shape(m, "x", {kHugeDim, kHugeDim, 0});
  m.int64_initializer("shape", {3}, {0, 0, 0});
  m.node("Reshape", {"x", "shape"}, {"y"}, "reshape_zero");
  m.output("y");
  auto graph = m.import(/*infer_and_verify=*/true);
  EXPECT_TRUE(graph.ok()) << graph.status().message();
}

TEST(OverflowRobustness, ConcatAxisSumOverflows) {
  ModelBuilder m;
  constant_of_shape(m, "a", {kMaxDim - 1});
  constant_of_shape(m, "b", {5});
  auto* concat = m.node("Concat", {"a", "b"}, {"y"}, "concat_overflow");
  set_int(concat, "axis", 0);
  m.output("y");
  expect_overflow_error(m, "concat_overflow");
}

TEST(OverflowRobustness, ConvDilatedKernelOverflows) {
  ModelBuilder m;
  m.input("x", TensorProto::FLOAT, std::vector<int64_t>{1, 1, 5, 5});
  m.input("w", TensorProto::FLOAT, std::vector<int64_t>{1, 1, 3, 3});
  auto* conv = m.node("Conv", {"x", "w"}, {"y"}, "conv_dilation_overflow");
  set_ints(conv, "dilations", {kMaxDim / 2 + 1, 1});
  m.output("y");
  expect_overflow_error(m, "conv_dilation_overflow");
}

TEST(OverflowRobustness, MaxPoolPaddedInputOverflows) {
  ModelBuilder m;
  constant_of_shape(m, "x", {1, 1, kMaxDim - 2});
  auto* pool = m.node("MaxPool", {"x"}, {"y"}, "pool_overflow");
  set_ints(pool, "kernel_shape", {1});
  set_ints(pool, "pads", {2, 2});
  m.output("y");
  expect_overflow_error(m, "pool_overflow");
}

TEST(OverflowRobustness, PadGrowsAxisPastInt64) {
  ModelBuilder m;
  constant_of_shape(m, "x", {kMaxDim - 3});
  m.int64_initializer("pads", {2}, {2, 2});
  m.node("Pad", {"x", "pads"}, {"y"}, "pad_overflow");
  m.output("y");
  expect_overflow_error(m, "pad_overflow");
}

TEST(OverflowRobustness, ConstantOfShapeWithOverflowingElementCount) {
  ModelBuilder m;
  m.int64_initializer("shape", {2}, {kHugeDim, kHugeDim});
  m.node("ConstantOfShape", {"shape"}, {"y"}, "cos_overflow");
  m.output("y");
  expect_overflow_error(m, "cos_overflow");
}

TEST(OverflowRobustness, ExpandToOverflowingElementCount) {
  ModelBuilder m;
  m.input("x", TensorProto::FLOAT, std::vector<int64_t>{1, 1});
  m.int64_initializer("shape", {2}, {kHugeDim, kHugeDim});
  m.node("Expand", {"x", "shape"}, {"y"}, "expand_overflow");
  m.output("y");
  expect_overflow_error(m, "expand_overflow");
}

TEST(OverflowRobustness, ShapeCheckedNumel) {
  EXPECT_EQ(Shape({2, 3, 4}).checked_numel(), 24);
  EXPECT_EQ(Shape().checked_numel(), 1);
  EXPECT_EQ(Shape({kHugeDim, kHugeDim}).checked_numel(), std::nullopt);
  EXPECT_EQ(Shape({kHugeDim, kHugeDim, 0}).checked_numel(), 0);
  EXPECT_EQ(Shape({kDynamicDim, 3}).checked_numel(), std::nullopt);
}

TEST(OverflowRobustness, TensorReshapeToOverflowingShapeFails) {
  const Tensor t(DType::kFloat32, Shape{2, 3});
  auto reshaped = t.reshaped(Shape{377, 144115188075847551});
  ASSERT_FALSE(reshaped.ok());
  EXPECT_EQ(reshaped.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kiln::onnx_test
