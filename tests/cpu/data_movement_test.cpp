// Gather, Transpose, the reshape-like copies and Cast on the CPU backend vs reference; bad
// indices are an error Status.
#include "cpu_test_util.h"

#include "backends/cpu/cpu_backend.h"

namespace kiln::backends::cpu::testing {
namespace {

TEST(CpuGather, EmbeddingAndOtherAxesMatchReference) {
  OpCase embedding;
  embedding.op = OpKind::Gather;
  embedding.inputs = {random_tensor(Shape{50, 16}, 1), int64_tensor(Shape{2, 3}, {3, 0, 49, -1, 7, 7})};
  embedding.constant_inputs = {0};
  expect_matches_reference(embedding, kExact, "Gather embedding");

  OpCase middle;
  middle.op = OpKind::Gather;
  middle.inputs = {random_tensor(Shape{3, 5, 4}, 2), int64_tensor(Shape{2}, {4, -5})};
  middle.attrs.set("axis", int64_t{1});
  expect_matches_reference(middle, kExact, "Gather axis 1");

  OpCase shape_gather;
  shape_gather.op = OpKind::Gather;
  shape_gather.inputs = {int64_tensor(Shape{4}, {2, 128, 12, 64}), int64_tensor(Shape{}, {1})};
  expect_matches_reference(shape_gather, kExact, "Gather int64 scalar index");
}

TEST(CpuGather, OutOfRangeIndexIsAnError) {
  OpCase c;
  c.op = OpKind::Gather;
  c.inputs = {random_tensor(Shape{5, 4}, 1), int64_tensor(Shape{2}, {1, 2})};
  const std::vector<Tensor> expected = run_reference(c);
  c.inputs[1] = int64_tensor(Shape{2}, {1, 5});
  auto got = run_cpu(c, expected);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(got.status().message().find("out of range"), std::string::npos) << got.status().to_string();
}

TEST(CpuTranspose, MatchesReference) {
  struct TransposeCase {
    Shape x;
    std::vector<int64_t> perm;
  };
  uint32_t salt = 1;
  for (const TransposeCase& t : std::vector<TransposeCase>{{{2, 9, 12, 64}, {0, 2, 1, 3}},
                                                           {{2, 12, 9, 64}, {0, 1, 3, 2}},
                                                           {{3, 4, 5}, {}},
                                                           {{6, 1, 7}, {2, 0, 1}}}) {
    OpCase c;
    c.op = OpKind::Transpose;
    c.inputs = {random_tensor(t.x, salt++)};
    if (!t.perm.empty()) c.attrs.set("perm", t.perm);
    expect_matches_reference(c, kExact, "Transpose " + t.x.to_string());
  }
}

TEST(CpuSplit, MatchesReferenceOnEveryOutput) {
  for (int64_t axis : {-1, 1}) {
    OpCase c;
    c.op = OpKind::Split;
    c.inputs = {random_tensor(Shape{2, 6, 9}, static_cast<uint32_t>(axis + 5)),
                int64_tensor(Shape{3}, axis == 1 ? std::vector<int64_t>{1, 2, 3} : std::vector<int64_t>{4, 4, 1})};
    c.constant_inputs = {1};
    c.attrs.set("axis", axis);
    c.outputs = 3;
    const std::vector<Tensor> expected = run_reference(c);
    auto got = run_cpu(c, expected);
    ASSERT_TRUE(got.ok()) << got.status().to_string();
    for (size_t i = 0; i < expected.size(); ++i)
      EXPECT_EQ(max_relative_error((*got)[i], expected[i]), 0.0) << "axis " << axis << " output " << i;
  }
}

TEST(CpuCopies, ReshapeFlattenSqueezeMatchReference) {
  OpCase reshape;
  reshape.op = OpKind::Reshape;
  reshape.inputs = {random_tensor(Shape{2, 9, 768}, 1), int64_tensor(Shape{4}, {2, 9, 12, 64})};
  reshape.constant_inputs = {1};
  expect_matches_reference(reshape, kExact, "Reshape");
  OpCase flatten;
  flatten.op = OpKind::Flatten;
  flatten.inputs = {random_tensor(Shape{4, 2048, 1, 1}, 2)};
  expect_matches_reference(flatten, kExact, "Flatten");
}

TEST(CpuCast, Int64MaskToFloatAndBack) {
  OpCase to_float;
  to_float.op = OpKind::Cast;
  to_float.inputs = {int64_tensor(Shape{2, 5}, {1, 1, 1, 0, 0, 1, 1, 1, 1, 1})};
  to_float.attrs.set("to", int64_t{1});  // TensorProto FLOAT
  expect_matches_reference(to_float, kExact, "Cast int64 -> float");
  OpCase to_int;
  to_int.op = OpKind::Cast;
  to_int.inputs = {random_tensor(Shape{100}, 3, -50.0f, 50.0f)};
  to_int.attrs.set("to", int64_t{7});  // TensorProto INT64
  expect_matches_reference(to_int, kExact, "Cast float -> int64");
}

TEST(CpuBackendInterface, SaysNoToDynamicShapesAndUnknownOps) {
  const CpuBackend backend(CpuBackendOptions{3});
  EXPECT_EQ(backend.threads(), 3);
  EXPECT_EQ(backend.device(), DeviceKind::kHost);
  Attributes attrs;
  NodeDesc node;
  node.op = OpKind::Relu;
  node.attributes = &attrs;
  node.inputs = {TensorDesc{DType::kFloat32, Shape{kDynamicDim, 4}}};
  node.outputs = {TensorDesc{DType::kFloat32, Shape{kDynamicDim, 4}}};
  EXPECT_FALSE(backend.supports(node));
  node.op = OpKind::TopK;
  node.inputs[0].shape = node.outputs[0].shape = Shape{2, 4};
  EXPECT_FALSE(backend.supports(node));
  EXPECT_FALSE(backend.prepare(node, 0).ok());
}

}  // namespace
}  // namespace kiln::backends::cpu::testing
