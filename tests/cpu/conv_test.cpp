// Conv on the CPU backend (both tactics) vs the reference kernel.
#include "cpu_test_util.h"

#include "backends/cpu/cpu_backend.h"

namespace kiln::backends::cpu::testing {
namespace {

struct ConvShape {
  Shape x, w;
  std::vector<int64_t> strides, pads, dilations;
  int64_t group;
  bool bias;
};

OpCase conv_case(const ConvShape& s, uint32_t salt) {
  OpCase c;
  c.op = OpKind::Conv;
  c.inputs = {random_tensor(s.x, salt), random_tensor(s.w, salt + 1)};
  c.inputs.push_back(s.bias ? random_tensor(Shape{s.w[0]}, salt + 2) : Tensor());
  c.constant_inputs = {1, 2};
  c.attrs.set("strides", s.strides);
  c.attrs.set("pads", s.pads);
  c.attrs.set("dilations", s.dilations);
  c.attrs.set("group", s.group);
  return c;
}

TEST(CpuConv, MatchesReferenceAcrossShapes) {
  const std::vector<ConvShape> shapes = {
      {{1, 3, 17, 19}, {8, 3, 7, 7}, {2, 2}, {3, 3, 3, 3}, {1, 1}, 1, true},        // ResNet stem
      {{2, 16, 9, 9}, {32, 16, 1, 1}, {1, 1}, {0, 0, 0, 0}, {1, 1}, 1, true},        // 1x1
      {{1, 16, 10, 8}, {16, 16, 3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}, 1, false},      // 3x3 no bias
      {{1, 32, 11, 11}, {64, 32, 3, 3}, {2, 2}, {1, 0, 1, 0}, {1, 1}, 1, true},      // strided, asymmetric
      {{1, 8, 12, 12}, {8, 2, 3, 3}, {1, 1}, {2, 2, 2, 2}, {2, 2}, 4, true},         // grouped, dilated
      {{2, 4, 20}, {6, 4, 5}, {2}, {2, 2}, {1}, 1, true},                            // 1-D
  };
  uint32_t salt = 10;
  for (const ConvShape& s : shapes) {
    expect_matches_reference(conv_case(s, salt), kGemmTolerance, "Conv x" + s.x.to_string() + " w" + s.w.to_string());
    salt += 10;
  }
}

TEST(CpuConv, MatchesReferenceWithOneThread) {
  expect_matches_reference(conv_case({{1, 16, 14, 14}, {24, 16, 3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}, 1, true}, 3),
                           kGemmTolerance, "Conv one thread", 1);
}

bool offers(const CpuBackend& backend, const NodeDesc& node, const std::string& name) {
  for (const Tactic& t : backend.tactics(node))
    if (t.name == name) return true;
  return false;
}

// ResNet-shaped 3x3 layers get the Winograd tactic (where oneDNN has one for this CPU) and it
// matches the reference, alone and with the residual and ReLU of a bottleneck's last layer.
TEST(CpuConv, WinogradTacticMatchesReference) {
  OpCase c = conv_case({{2, 64, 14, 14}, {64, 64, 3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}, 1, true}, 7);
  const CpuBackend backend;
  const NodeDesc node = describe(c, run_reference(c));
  if (!offers(backend, node, "onednn winograd"))
    GTEST_SKIP() << "oneDNN has no Winograd convolution for this CPU (it needs AVX-512)";
  expect_matches_reference(c, kGemmTolerance, "Conv 3x3 64->64");

  OpCase fused = c;
  fused.op = OpKind::FusedConv;
  fused.inputs.push_back(random_tensor(Shape{2, 64, 14, 14}, 9));
  fused.attrs.set("activation", std::string("Relu"));
  expect_matches_reference(fused, kGemmTolerance, "FusedConv 3x3 + Z + Relu");

  OpCase strided = conv_case({{1, 64, 14, 14}, {64, 64, 3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}, 1, true}, 11);
  EXPECT_FALSE(offers(backend, describe(strided, run_reference(strided)), "onednn winograd"));
  OpCase pointwise = conv_case({{1, 64, 14, 14}, {64, 64, 1, 1}, {1, 1}, {0, 0, 0, 0}, {1, 1}, 1, true}, 13);
  EXPECT_FALSE(offers(backend, describe(pointwise, run_reference(pointwise)), "onednn winograd"));
  auto wrong = backend.prepare(describe(strided, run_reference(strided)), 2);
  EXPECT_FALSE(wrong.ok());
}

TEST(CpuConv, SaysNoToRuntimeWeightsAndOtherDtypes) {
  OpCase c = conv_case({{1, 4, 8, 8}, {4, 4, 3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}, 1, true}, 1);
  const std::vector<Tensor> expected = run_reference(c);
  CpuBackend backend;
  c.constant_inputs = {};
  EXPECT_FALSE(backend.supports(describe(c, expected)));
  c.constant_inputs = {1, 2};
  NodeDesc node = describe(c, expected);
  EXPECT_TRUE(backend.supports(node));
  node.inputs[0].dtype = DType::kFloat16;
  EXPECT_FALSE(backend.supports(node));
  node.inputs[0].dtype = DType::kFloat32;
  node.outputs[0].shape = Shape{1, 4, 7, 7};
  EXPECT_FALSE(backend.supports(node));
  auto kernel = backend.prepare(node, 0);
  ASSERT_FALSE(kernel.ok());
  EXPECT_NE(kernel.status().message().find("Conv_under_test"), std::string::npos) << kernel.status().to_string();
}

}  // namespace
}  // namespace kiln::backends::cpu::testing
