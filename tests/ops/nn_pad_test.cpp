// Pad: constant / reflect / edge, negative pads, axes, every dtype; and the nn schemas' handling
// of symbolic batch dims (N stays N).
#include <gtest/gtest.h>

#include "ir/graph.h"
#include "ir/shape_inference.h"
#include "nn_test_helpers.h"

namespace kiln::testing {
namespace {

Result<std::vector<Tensor>> pad(const Tensor& x, std::vector<int64_t> pads, const std::string& mode,
                                const Tensor& value = Tensor(), const Tensor& axes = Tensor()) {
  Attributes attrs;
  attrs.set("mode", mode);
  OpRun run{OpKind::Pad, {x, make_int64(Shape{static_cast<int64_t>(pads.size())}, pads), value, axes}, attrs};
  run.constant_inputs = {1, 2, 3};
  return run_op(run);
}

TEST(PadModes, ConstantReflectEdge) {
  Tensor m = make_tensor(DType::kFloat32, Shape{2, 2}, {1, 2, 3, 4});
  auto c = pad(m, {1, 0, 0, 1}, "constant", make_tensor(DType::kFloat32, Shape{}, {9}));
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  EXPECT_EQ((*c)[0].shape(), (Shape{3, 3}));
  EXPECT_EQ(values_of((*c)[0]), (std::vector<double>{9, 9, 9, 1, 2, 9, 3, 4, 9}));
  Tensor v = make_tensor(DType::kFloat32, Shape{4}, {1, 2, 3, 4});
  auto r = pad(v, {2, 1}, "reflect");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(values_of((*r)[0]), (std::vector<double>{3, 2, 1, 2, 3, 4, 3}));
  auto e = pad(v, {2, 1}, "edge");
  ASSERT_TRUE(e.ok()) << e.status().to_string();
  EXPECT_EQ(values_of((*e)[0]), (std::vector<double>{1, 1, 1, 2, 3, 4, 4}));
}

TEST(PadModes, NegativePadsCrop) {
  Tensor v = make_tensor(DType::kFloat32, Shape{4}, {1, 2, 3, 4});
  auto c = pad(v, {-1, 1}, "constant");
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  EXPECT_EQ(values_of((*c)[0]), (std::vector<double>{2, 3, 4, 0}));
  auto e = pad(v, {1, -2}, "edge");  // crop to [1, 2], then extend its edge
  ASSERT_TRUE(e.ok()) << e.status().to_string();
  EXPECT_EQ(values_of((*e)[0]), (std::vector<double>{1, 1, 2}));
  EXPECT_FALSE(pad(v, {-3, -2}, "constant").ok());  // crops below zero
  EXPECT_FALSE(pad(v, {4, 0}, "reflect").ok());     // reflection longer than the axis
}

TEST(PadModes, AxesInputSelectsAxes) {
  Tensor m = make_tensor(DType::kFloat32, Shape{2, 3}, {1, 2, 3, 4, 5, 6});
  auto r = pad(m, {1, 0}, "edge", Tensor(), make_int64(Shape{1}, {-1}));
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ((*r)[0].shape(), (Shape{2, 4}));
  EXPECT_EQ(values_of((*r)[0]), (std::vector<double>{1, 1, 2, 3, 4, 4, 5, 6}));
}

TEST(PadDtypes, EveryDtypeCopiesExactly) {
  for (DType dtype : {DType::kBool, DType::kInt64, DType::kInt8, DType::kUInt16, DType::kFloat16, DType::kBFloat16,
                      DType::kFloat64, DType::kInt32}) {
    Tensor x = random_tensor(dtype, Shape{2, 3}, 80, 0, 100);
    auto r = pad(x, {0, 1, 1, 2}, "reflect");
    ASSERT_TRUE(r.ok()) << dtype_name(dtype) << ": " << r.status().to_string();
    EXPECT_EQ((*r)[0].dtype(), dtype);
    EXPECT_EQ((*r)[0].shape(), (Shape{3, 6}));
    const auto xv = values_of(x), yv = values_of((*r)[0]);
    // Row 0 of the output is input row 0 with columns [1, 0, 1, 2, 1, 0].
    const size_t cols[] = {1, 0, 1, 2, 1, 0};
    for (size_t j = 0; j < 6; ++j) EXPECT_EQ(yv[j], xv[cols[j]]) << dtype_name(dtype);
    // Row 1 is input row 1; row 2 reflects back onto input row 0.
    for (size_t j = 0; j < 6; ++j) EXPECT_EQ(yv[6 + j], xv[3 + cols[j]]) << dtype_name(dtype);
    for (size_t j = 0; j < 6; ++j) EXPECT_EQ(yv[12 + j], xv[cols[j]]) << dtype_name(dtype);
  }
  // Large int64 values survive (no round trip through double).
  const int64_t big = (int64_t{1} << 62) + 1;
  auto r = pad(make_int64(Shape{1}, {big}), {1, 0}, "edge");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ((*r)[0].data<int64_t>()[0], big);
}

// Shape inference through a graph whose input has a symbolic batch dim.
Result<ir::ValueType> infer_with_symbolic_batch(OpKind op, Shape tail, std::vector<Tensor> constants, Attributes attrs) {
  ir::Graph graph;
  graph.opset = 17;
  ir::Value* x = graph.add_value("x");
  ir::SymShape shape = {ir::Dim::symbolic("N")};
  for (int64_t d : tail.dims()) shape.push_back(ir::Dim::known(d));
  x->set_type(ir::ValueType{DType::kFloat32, shape});
  graph.add_input(x);
  std::vector<ir::Value*> inputs = {x};
  for (size_t i = 0; i < constants.size(); ++i) inputs.push_back(graph.add_constant("c" + std::to_string(i), constants[i]));
  ir::Value* out = graph.add_value("y");
  graph.add_node(op, "node", inputs, {out}, attrs);
  graph.add_output(out);
  KILN_RETURN_IF_ERROR(ir::infer_shapes(graph));
  return out->type();
}

TEST(NnShapeInference, SymbolicBatchPassesThrough) {
  Attributes pool;
  pool.set("kernel_shape", std::vector<int64_t>{3, 3});
  pool.set("strides", std::vector<int64_t>{2, 2});
  pool.set("pads", std::vector<int64_t>{1, 1, 1, 1});
  Attributes none;
  const struct {
    OpKind op;
    std::vector<Tensor> constants;
    Attributes attrs;
    std::string expected;
  } cases[] = {
      {OpKind::Conv, {random_tensor(DType::kFloat32, Shape{8, 3, 3, 3}, 1)}, pool, "float32[N,8,112,112]"},
      {OpKind::MaxPool, {}, pool, "float32[N,3,112,112]"},
      {OpKind::GlobalAveragePool, {}, none, "float32[N,3,1,1]"},
      {OpKind::Pad, {make_int64(Shape{8}, {0, 0, 1, 1, 0, 0, 1, 1})}, none, "float32[N,3,226,226]"},
  };
  for (const auto& c : cases) {
    Attributes attrs = c.attrs;
    if (c.op == OpKind::Conv) attrs.erase("kernel_shape");
    auto type = infer_with_symbolic_batch(c.op, Shape{3, 224, 224}, c.constants, attrs);
    ASSERT_TRUE(type.ok()) << type.status().to_string();
    EXPECT_EQ(type->to_string(), c.expected) << op_kind_name(c.op);
  }
}

}  // namespace
}  // namespace kiln::testing
