// Elementwise ops through the CudaBackend vs the reference backend: every unary op, the binary
// ops with BERT-style broadcasts, Pow by a constant and by a tensor, in every float dtype.
#include <gtest/gtest.h>

#include "backend_test_util.h"
#include "cuda_test_util.h"

namespace kiln::cuda {
namespace {

using namespace kiln::cuda::testing;

constexpr DType kDTypes[] = {DType::kFloat32, DType::kFloat16, DType::kBFloat16};

struct UnaryCase {
  OpKind op;
  const char* approximate;  // Gelu only
  float lo, hi;
};

TEST(CudaBackendElementwise, UnaryOpsMatchReference) {
  KILN_REQUIRE_GPU();
  const UnaryCase cases[] = {
      {OpKind::Relu, nullptr, -4, 4},      {OpKind::Sigmoid, nullptr, -6, 6}, {OpKind::Tanh, nullptr, -3, 3},
      {OpKind::Erf, nullptr, -2, 2},       {OpKind::Sqrt, nullptr, 0.01f, 9}, {OpKind::Exp, nullptr, -3, 3},
      {OpKind::HardSwish, nullptr, -5, 5}, {OpKind::Gelu, "none", -4, 4},     {OpKind::Gelu, "tanh", -4, 4},
      {OpKind::LeakyRelu, nullptr, -4, 4},
  };
  uint32_t salt = 0;
  for (const UnaryCase& u : cases) {
    for (DType dtype : kDTypes) {
      OpCase c;
      c.op = u.op;
      if (u.approximate != nullptr) c.attrs.set("approximate", std::string(u.approximate));
      if (u.op == OpKind::LeakyRelu) c.attrs.set("alpha", 0.2f);
      c.inputs.push_back(float_input(dtype, Shape{3, 77, 129}, u.lo, u.hi, ++salt));
      expect_case_matches(c, std::string(op_kind_name(u.op)) + (u.approximate ? std::string("(") + u.approximate + ")" : "") + " " +
                                 std::string(dtype_name(dtype)));
    }
  }
}

TEST(CudaBackendElementwise, ClipWithConstantBoundsMatchesReference) {
  KILN_REQUIRE_GPU();
  uint32_t salt = 100;
  for (DType dtype : kDTypes) {
    OpCase c;
    c.op = OpKind::Clip;
    c.inputs.push_back(float_input(dtype, Shape{1000}, -5, 5, ++salt));
    CaseInput lo, hi;
    lo.value = float_tensor(Shape{}, {-1.5f});
    lo.storage = dtype;
    lo.constant = true;
    hi.value = float_tensor(Shape{}, {2.0f});
    hi.storage = dtype;
    hi.constant = true;
    c.inputs.push_back(lo);
    c.inputs.push_back(hi);
    expect_case_matches(c, "Clip " + std::string(dtype_name(dtype)));
  }
}

struct BinaryShapes {
  Shape a, b;
};

TEST(CudaBackendElementwise, BinaryOpsWithBroadcastMatchReference) {
  KILN_REQUIRE_GPU();
  const BinaryShapes shapes[] = {
      {Shape{4, 128, 1024}, Shape{1024}},            // BERT-large bias add
      {Shape{4, 16, 128, 128}, Shape{4, 1, 1, 128}},  // attention mask
      {Shape{2, 64, 7, 7}, Shape{2, 64, 7, 7}},       // ResNet residual, same shape
      {Shape{5, 1, 3}, Shape{1, 4, 1}},               // both sides broadcast
  };
  uint32_t salt = 200;
  for (OpKind op : {OpKind::Add, OpKind::Sub, OpKind::Mul, OpKind::Div}) {
    for (const BinaryShapes& s : shapes) {
      for (DType dtype : kDTypes) {
        OpCase c;
        c.op = op;
        c.inputs.push_back(float_input(dtype, s.a, -3, 3, ++salt));
        // Div: keep the divisor away from zero.
        c.inputs.push_back(op == OpKind::Div ? float_input(dtype, s.b, 0.5f, 2.0f, ++salt) : float_input(dtype, s.b, -3, 3, ++salt));
        expect_case_matches(c, std::string(op_kind_name(op)) + " " + s.a.to_string() + " x " + s.b.to_string() + " " +
                                   std::string(dtype_name(dtype)));
      }
    }
  }
}

TEST(CudaBackendElementwise, PowByConstantAndByTensorMatchReference) {
  KILN_REQUIRE_GPU();
  uint32_t salt = 300;
  for (DType dtype : kDTypes) {
    for (float exponent : {2.0f, 0.5f, 3.0f}) {
      OpCase c;
      c.op = OpKind::Pow;
      c.inputs.push_back(float_input(dtype, Shape{8, 1024}, 0.1f, 3.0f, ++salt));
      CaseInput e;
      e.value = float_tensor(Shape{}, {exponent});
      e.storage = dtype;
      e.constant = true;
      c.inputs.push_back(e);
      expect_case_matches(c, "Pow ^" + std::to_string(exponent) + " " + std::string(dtype_name(dtype)));
    }
    OpCase c;
    c.op = OpKind::Pow;
    c.inputs.push_back(float_input(dtype, Shape{8, 1024}, 0.1f, 3.0f, ++salt));
    c.inputs.push_back(float_input(dtype, Shape{1024}, -2.0f, 2.0f, ++salt));
    expect_case_matches(c, "Pow tensor " + std::string(dtype_name(dtype)));
  }
}

TEST(CudaBackendElementwise, RejectsWhatItCannotRun) {
  KILN_REQUIRE_GPU();
  const CudaBackend* backend = test_backend();
  ASSERT_NE(backend, nullptr);
  Attributes attrs;
  backends::NodeDesc node;
  node.op = OpKind::Relu;
  node.name = "int relu";
  node.attributes = &attrs;
  node.inputs = {{DType::kInt32, Shape{4}}};
  node.outputs = {{DType::kInt32, Shape{4}}};
  EXPECT_FALSE(backend->supports(node));
  EXPECT_FALSE(backend->prepare(node, 0).ok());
  node.op = OpKind::Add;
  node.inputs = {{DType::kFloat32, Shape{4, 3}}, {DType::kFloat32, Shape{5}}};
  node.outputs = {{DType::kFloat32, Shape{4, 3}}};
  EXPECT_FALSE(backend->supports(node));
  node.op = OpKind::Softmax;
  attrs.set("axis", int64_t{0});
  node.inputs = {{DType::kFloat32, Shape{4, 3}}};
  node.outputs = {{DType::kFloat32, Shape{4, 3}}};
  const Status status = backend->check(node);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.to_string().find("last axis"), std::string::npos) << status.to_string();
}

}  // namespace
}  // namespace kiln::cuda
