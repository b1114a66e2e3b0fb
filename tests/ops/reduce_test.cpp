// Reference kernels and shape inference of the axes-based reductions (ReduceSum, ...).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>

#include "ir/graph.h"
#include "ir/shape_inference.h"
#include "op_test_util.h"

namespace kiln {
namespace {

using testing::make_int64;
using testing::make_tensor;
using testing::max_relative_error;
using testing::OpRun;
using testing::random_tensor;
using testing::run_op;
using testing::values_of;

constexpr double kInf = std::numeric_limits<double>::infinity();

Tensor f32(const Shape& shape, const std::vector<double>& values) {
  return make_tensor(DType::kFloat32, shape, values);
}

Attributes keepdims(int64_t value) {
  Attributes attrs;
  attrs.set("keepdims", value);
  return attrs;
}

// Runs a reduction with constant axes (so shape inference sees them) and returns output 0.
Tensor reduce(OpKind op, const Tensor& data, const std::vector<int64_t>& axes, int64_t keep = 1) {
  OpRun run{.op = op,
            .inputs = {data, make_int64(Shape{static_cast<int64_t>(axes.size())}, axes)},
            .attrs = keepdims(keep),
            .constant_inputs = {1}};
  auto result = run_op(run);
  EXPECT_TRUE(result.ok()) << result.status().to_string();
  return result.ok() ? (*result)[0] : Tensor();
}

// Runs a reduction without the axes input (reduce over every axis).
Tensor reduce_all(OpKind op, const Tensor& data, int64_t keep = 1) {
  auto result = run_op(OpRun{.op = op, .inputs = {data}, .attrs = keepdims(keep)});
  EXPECT_TRUE(result.ok()) << result.status().to_string();
  return result.ok() ? (*result)[0] : Tensor();
}

TEST(ReduceSum, KeepDimsAlongOneAxis) {
  Tensor data = f32(Shape{2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor out = reduce(OpKind::ReduceSum, data, {1});
  EXPECT_EQ(out.shape(), (Shape{2, 1}));
  EXPECT_EQ(values_of(out), (std::vector<double>{6, 15}));
}

TEST(ReduceSum, DropsDimsWithoutKeepDimsAndAcceptsNegativeAxes) {
  Tensor data = f32(Shape{2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor out = reduce(OpKind::ReduceSum, data, {-1}, 0);
  EXPECT_EQ(out.shape(), (Shape{2}));
  EXPECT_EQ(values_of(out), (std::vector<double>{6, 15}));
  Tensor cols = reduce(OpKind::ReduceSum, data, {-2}, 0);
  EXPECT_EQ(values_of(cols), (std::vector<double>{5, 7, 9}));
}

TEST(ReduceSum, SeveralAxesOfRank3) {
  // data[i][j][k] = 100 i + 10 j + k over 2x2x3.
  std::vector<double> v;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j)
      for (int k = 0; k < 3; ++k) v.push_back(100 * i + 10 * j + k);
  Tensor out = reduce(OpKind::ReduceSum, f32(Shape{2, 2, 3}, v), {0, 2}, 1);
  EXPECT_EQ(out.shape(), (Shape{1, 2, 1}));
  // j = 0: sum over i,k of 100 i + k = 3*100 + 2*(0+1+2) = 306; j = 1 adds 10 per element (6 of them).
  EXPECT_EQ(values_of(out), (std::vector<double>{306, 366}));
}

TEST(ReduceSum, AbsentAxesReducesEverything) {
  Tensor data = f32(Shape{2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor kept = reduce_all(OpKind::ReduceSum, data, 1);
  EXPECT_EQ(kept.shape(), (Shape{1, 1}));
  EXPECT_EQ(values_of(kept), (std::vector<double>{21}));
  Tensor scalar = reduce_all(OpKind::ReduceSum, data, 0);
  EXPECT_EQ(scalar.shape(), Shape{});
  EXPECT_EQ(values_of(scalar), (std::vector<double>{21}));
}

TEST(ReduceSum, EmptyAxesReducesEverythingUnlessNoop) {
  Tensor data = f32(Shape{2, 2}, {1, 2, 3, 4});
  Tensor empty_axes = make_int64(Shape{0}, {});
  auto all = run_op(OpRun{.op = OpKind::ReduceSum, .inputs = {data, empty_axes}, .attrs = keepdims(0),
                          .constant_inputs = {1}});
  ASSERT_TRUE(all.ok()) << all.status().to_string();
  EXPECT_EQ(values_of((*all)[0]), (std::vector<double>{10}));

  Attributes noop = keepdims(0);
  noop.set("noop_with_empty_axes", int64_t{1});
  for (bool constant : {true, false}) {
    OpRun run{.op = OpKind::ReduceSum, .inputs = {data, empty_axes}, .attrs = noop};
    if (constant) run.constant_inputs = {1};
    auto same = run_op(run);
    ASSERT_TRUE(same.ok()) << same.status().to_string();
    EXPECT_EQ((*same)[0].shape(), data.shape());
    EXPECT_EQ(values_of((*same)[0]), values_of(data));
  }
  // noop with the axes input absent is the identity too.
  auto absent = run_op(OpRun{.op = OpKind::ReduceMax, .inputs = {data}, .attrs = noop});
  ASSERT_TRUE(absent.ok()) << absent.status().to_string();
  EXPECT_EQ(values_of((*absent)[0]), values_of(data));
}

TEST(ReduceSum, RuntimeAxesGiveTheSameResult) {
  Tensor data = random_tensor(DType::kFloat32, Shape{3, 4, 5}, 11);
  for (int64_t keep : {0, 1}) {
    Tensor expected = reduce(OpKind::ReduceSum, data, {0, 2}, keep);
    auto runtime = run_op(OpRun{.op = OpKind::ReduceSum, .inputs = {data, make_int64(Shape{2}, {0, 2})},
                                .attrs = keepdims(keep)});
    ASSERT_TRUE(runtime.ok()) << runtime.status().to_string();
    EXPECT_EQ((*runtime)[0].shape(), expected.shape());
    EXPECT_EQ(values_of((*runtime)[0]), values_of(expected));
  }
}

TEST(ReduceSum, AllAxesEqualsSumOfValues) {
  Tensor data = random_tensor(DType::kFloat64, Shape{4, 3, 7}, 21, -5.0, 5.0);
  std::vector<double> v = values_of(data);
  double expected = std::accumulate(v.begin(), v.end(), 0.0);
  Tensor out = reduce(OpKind::ReduceSum, data, {0, 1, 2}, 0);
  EXPECT_NEAR(values_of(out)[0], expected, 1e-9);
}

TEST(ReduceSum, Int64SumsAreExact) {
  const int64_t big = (int64_t{1} << 53) + 1;  // not representable in double
  Tensor data = make_int64(Shape{3}, {big, 1, 1});
  Tensor out = reduce_all(OpKind::ReduceSum, data, 0);
  ASSERT_EQ(out.dtype(), DType::kInt64);
  EXPECT_EQ(out.data<int64_t>()[0], big + 2);
}

TEST(ReduceSum, LowPrecisionFloatsMatchFloat32) {
  for (DType dtype : {DType::kFloat16, DType::kBFloat16}) {
    Tensor data = random_tensor(dtype, Shape{4, 6}, 31);
    Tensor wide = make_tensor(DType::kFloat32, data.shape(), values_of(data));
    Tensor narrow = reduce(OpKind::ReduceSum, data, {1});
    Tensor expected = reduce(OpKind::ReduceSum, wide, {1});
    Tensor narrow_as_f32 = make_tensor(DType::kFloat32, narrow.shape(), values_of(narrow));
    EXPECT_EQ(narrow.dtype(), dtype);
    // One rounding to the narrow type: 2^-8 relative for bfloat16, with an absolute floor.
    EXPECT_LE(max_relative_error(narrow_as_f32, expected, 0.5), 1.0 / 128) << dtype_name(dtype);
  }
}

TEST(ReduceMean, EqualsSumDividedByCount) {
  Tensor data = random_tensor(DType::kFloat64, Shape{3, 5, 4}, 41);
  Tensor sums = reduce(OpKind::ReduceSum, data, {1});
  Tensor means = reduce(OpKind::ReduceMean, data, {1});
  std::vector<double> s = values_of(sums);
  std::vector<double> m = values_of(means);
  ASSERT_EQ(s.size(), m.size());
  for (size_t i = 0; i < s.size(); ++i) EXPECT_NEAR(m[i], s[i] / 5.0, 1e-12);
}

TEST(ReduceMean, IntegersTruncateAndScalarsReduceToThemselves) {
  Tensor ints = make_tensor(DType::kInt32, Shape{2, 2}, {1, 2, -3, -4});
  // (1 + 2) / 2 = 1.5 and (-3 - 4) / 2 = -3.5, truncated toward zero like C++ integer division.
  EXPECT_EQ(values_of(reduce(OpKind::ReduceMean, ints, {1}, 0)), (std::vector<double>{1, -3}));
  Tensor scalar = f32(Shape{}, {2.5});
  Tensor out = reduce_all(OpKind::ReduceSumSquare, scalar, 1);
  EXPECT_EQ(out.shape(), Shape{});
  EXPECT_EQ(values_of(out), (std::vector<double>{6.25}));
}

TEST(ReduceMaxMin, HandComputed) {
  Tensor data = f32(Shape{2, 3}, {1, 5, 3, 4, 2, 6});
  EXPECT_EQ(values_of(reduce(OpKind::ReduceMax, data, {0}, 0)), (std::vector<double>{4, 5, 6}));
  EXPECT_EQ(values_of(reduce(OpKind::ReduceMin, data, {0}, 0)), (std::vector<double>{1, 2, 3}));
  EXPECT_EQ(values_of(reduce(OpKind::ReduceMax, data, {1}, 0)), (std::vector<double>{5, 6}));
  EXPECT_EQ(values_of(reduce(OpKind::ReduceMin, data, {1}, 0)), (std::vector<double>{1, 2}));
}

TEST(ReduceMaxMin, IntegerTypes) {
  Tensor i32 = make_tensor(DType::kInt32, Shape{2, 2}, {-7, 3, 9, -2});
  Tensor max = reduce(OpKind::ReduceMax, i32, {1});
  EXPECT_EQ(max.dtype(), DType::kInt32);
  EXPECT_EQ(values_of(max), (std::vector<double>{3, 9}));
  Tensor i8 = make_tensor(DType::kInt8, Shape{4}, {-128, 5, 127, 0});
  EXPECT_EQ(values_of(reduce_all(OpKind::ReduceMin, i8, 0)), (std::vector<double>{-128}));
  Tensor u8 = make_tensor(DType::kUInt8, Shape{3}, {200, 7, 255});
  EXPECT_EQ(values_of(reduce_all(OpKind::ReduceMax, u8, 0)), (std::vector<double>{255}));
}

TEST(ReduceProd, HandComputed) {
  Tensor data = f32(Shape{2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_EQ(values_of(reduce(OpKind::ReduceProd, data, {1}, 0)), (std::vector<double>{6, 120}));
  Tensor ints = make_int64(Shape{2, 2}, {3, -4, 5, 6});
  EXPECT_EQ(values_of(reduce(OpKind::ReduceProd, ints, {0}, 0)), (std::vector<double>{15, -24}));
}

TEST(ReduceNorms, HandComputed) {
  Tensor data = f32(Shape{2, 2}, {-1, 2, 3, -4});
  EXPECT_EQ(values_of(reduce_all(OpKind::ReduceL1, data, 0)), (std::vector<double>{10}));
  EXPECT_EQ(values_of(reduce_all(OpKind::ReduceSumSquare, data, 0)), (std::vector<double>{30}));
  EXPECT_NEAR(values_of(reduce_all(OpKind::ReduceL2, data, 0))[0], std::sqrt(30.0), 1e-6);
  EXPECT_NEAR(values_of(reduce(OpKind::ReduceL2, data, {1}, 0))[1], 5.0, 1e-6);
  Tensor positive = f32(Shape{4}, {1, 2, 3, 4});
  EXPECT_NEAR(values_of(reduce_all(OpKind::ReduceLogSum, positive, 0))[0], std::log(10.0), 1e-6);
}

TEST(ReduceLogSumExp, EqualsLogOfSumOfExp) {
  Tensor data = random_tensor(DType::kFloat64, Shape{3, 8}, 51, -3.0, 3.0);
  std::vector<double> v = values_of(data);
  Tensor out = reduce(OpKind::ReduceLogSumExp, data, {1}, 0);
  for (size_t row = 0; row < 3; ++row) {
    double sum = 0.0;
    for (size_t col = 0; col < 8; ++col) sum += std::exp(v[row * 8 + col]);
    EXPECT_NEAR(values_of(out)[row], std::log(sum), 1e-12);
  }
}

TEST(ReduceLogSumExp, StaysFiniteForLargeInputs) {
  // exp(1000) overflows double; log(exp(1000) + exp(1000)) = 1000 + log 2.
  Tensor data = f32(Shape{2}, {1000, 1000});
  Tensor out = reduce_all(OpKind::ReduceLogSumExp, data, 0);
  EXPECT_NEAR(values_of(out)[0], 1000.0 + std::log(2.0), 1e-3);
}

TEST(ReduceEmptySet, GivesTheIdentityOfEachOp) {
  Tensor data = f32(Shape{2, 0}, {});
  struct Case {
    OpKind op;
    double expected;
  };
  for (Case c : {Case{OpKind::ReduceSum, 0.0}, Case{OpKind::ReduceProd, 1.0}, Case{OpKind::ReduceMax, -kInf},
                 Case{OpKind::ReduceMin, kInf}, Case{OpKind::ReduceL1, 0.0}, Case{OpKind::ReduceL2, 0.0},
                 Case{OpKind::ReduceSumSquare, 0.0}, Case{OpKind::ReduceLogSum, -kInf},
                 Case{OpKind::ReduceLogSumExp, -kInf}}) {
    Tensor out = reduce(c.op, data, {1}, 1);
    EXPECT_EQ(out.shape(), (Shape{2, 1})) << op_kind_name(c.op);
    EXPECT_EQ(values_of(out), (std::vector<double>{c.expected, c.expected})) << op_kind_name(c.op);
  }
  Tensor ints = make_tensor(DType::kInt32, Shape{0, 3}, {});
  EXPECT_EQ(values_of(reduce(OpKind::ReduceMax, ints, {0}, 0)),
            std::vector<double>(3, static_cast<double>(std::numeric_limits<int32_t>::lowest())));
  // Reducing a kept axis of size 0 gives an empty output.
  Tensor out = reduce(OpKind::ReduceSum, f32(Shape{0, 3}, {}), {1}, 0);
  EXPECT_EQ(out.shape(), (Shape{0}));
}

TEST(ReduceErrors, AxesOutOfRangeOrRepeated) {
  Tensor data = f32(Shape{2, 3}, {1, 2, 3, 4, 5, 6});
  for (const std::vector<int64_t>& axes : {std::vector<int64_t>{2}, std::vector<int64_t>{-3},
                                           std::vector<int64_t>{1, 1}, std::vector<int64_t>{0, -2}}) {
    for (bool constant : {true, false}) {
      OpRun run{.op = OpKind::ReduceSum, .inputs = {data, make_int64(Shape{static_cast<int64_t>(axes.size())}, axes)}};
      if (constant) run.constant_inputs = {1};
      auto result = run_op(run);
      ASSERT_FALSE(result.ok()) << "axes[0]=" << axes[0] << " constant=" << constant;
      EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument) << result.status().to_string();
    }
  }
}

TEST(ReduceErrors, BoolDataIsRejected) {
  Tensor flags = make_tensor(DType::kBool, Shape{2}, {1, 0});
  auto result = run_op(OpRun{.op = OpKind::ReduceSum, .inputs = {flags}});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
}

// Shape inference on symbolic dims, without running a kernel.
ir::ValueType infer_reduce_type(const std::vector<int64_t>* constant_axes, int64_t keep) {
  ir::Graph graph;
  ir::Value* data = graph.add_value("data");
  data->set_type(ir::ValueType{DType::kFloat32, ir::SymShape{ir::Dim::symbolic("N"), ir::Dim::known(3),
                                                             ir::Dim::known(1), ir::Dim::known(4)}});
  graph.add_input(data);
  ir::Value* axes = nullptr;
  if (constant_axes) {
    axes = graph.add_constant("axes", make_int64(Shape{static_cast<int64_t>(constant_axes->size())}, *constant_axes));
  } else {
    axes = graph.add_value("axes");
    axes->set_type(ir::ValueType{DType::kInt64, ir::SymShape{ir::Dim::symbolic("A")}});
    graph.add_input(axes);
  }
  ir::Value* out = graph.add_value("out");
  Attributes attrs = keepdims(keep);
  graph.add_node(OpKind::ReduceMean, "mean", {data, axes}, {out}, attrs);
  Status status = ir::infer_shapes(graph);
  EXPECT_TRUE(status.ok()) << status.to_string();
  return out->type();
}

TEST(ReduceShapeInference, SymbolicDimsPassThroughKeptAxes) {
  std::vector<int64_t> axes = {-1};
  ir::ValueType dropped = infer_reduce_type(&axes, 0);
  ASSERT_TRUE(dropped.shape.has_value());
  EXPECT_EQ(*dropped.shape, (ir::SymShape{ir::Dim::symbolic("N"), ir::Dim::known(3), ir::Dim::known(1)}));
  ir::ValueType kept = infer_reduce_type(&axes, 1);
  ASSERT_TRUE(kept.shape.has_value());
  EXPECT_EQ(*kept.shape, (ir::SymShape{ir::Dim::symbolic("N"), ir::Dim::known(3), ir::Dim::known(1),
                                       ir::Dim::known(1)}));
}

TEST(ReduceShapeInference, RuntimeAxesKnowOnlyTheRankWithKeepDims) {
  ir::ValueType kept = infer_reduce_type(nullptr, 1);
  ASSERT_TRUE(kept.shape.has_value());
  ASSERT_EQ(kept.shape->size(), 4U);
  EXPECT_FALSE((*kept.shape)[0].is_known());
  EXPECT_FALSE((*kept.shape)[1].is_known());
  EXPECT_EQ((*kept.shape)[2], ir::Dim::known(1));  // size 1 stays 1 whether reduced or not
  EXPECT_EQ(kept.dtype, DType::kFloat32);
  ir::ValueType dropped = infer_reduce_type(nullptr, 0);
  EXPECT_FALSE(dropped.shape.has_value());
}

}  // namespace
}  // namespace kiln
