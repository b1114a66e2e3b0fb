// MatMul (batched, broadcast, constant and runtime B) and Gemm on the CPU backend vs reference.
#include "cpu_test_util.h"

namespace kiln::backends::cpu::testing {
namespace {

OpCase matmul_case(const Shape& a, const Shape& b, bool constant_b, uint32_t salt) {
  OpCase c;
  c.op = OpKind::MatMul;
  c.inputs = {random_tensor(a, salt), random_tensor(b, salt + 1)};
  if (constant_b) c.constant_inputs = {1};
  return c;
}

TEST(CpuMatMul, MatchesReferenceAcrossShapes) {
  struct MatMulShape {
    Shape a, b;
    bool constant_b;
  };
  const std::vector<MatMulShape> shapes = {
      {{7, 13}, {13, 5}, true},                   // plain GEMM, packed weights
      {{2, 9, 64}, {64, 48}, true},               // BERT projection: batch folds into M
      {{2, 3, 9, 16}, {2, 3, 16, 9}, false},      // attention scores, both at run time
      {{2, 1, 5, 8}, {1, 3, 8, 4}, false},        // broadcast batch on both sides
      {{4, 6, 8}, {8}, false},                    // vector B
      {{8}, {3, 8, 5}, false},                    // vector A
  };
  uint32_t salt = 1;
  for (const MatMulShape& s : shapes) {
    expect_matches_reference(matmul_case(s.a, s.b, s.constant_b, salt), kGemmTolerance,
                             "MatMul " + s.a.to_string() + " @ " + s.b.to_string());
    salt += 7;
  }
}

OpCase gemm_case(const Shape& a, const Shape& b, const Shape& c_shape, bool trans_a, bool trans_b, float alpha,
                 float beta, uint32_t salt) {
  OpCase c;
  c.op = OpKind::Gemm;
  c.inputs = {random_tensor(a, salt), random_tensor(b, salt + 1)};
  c.inputs.push_back(c_shape.rank() == 0 && c_shape.dims().empty() ? Tensor() : random_tensor(c_shape, salt + 2));
  c.constant_inputs = {1, 2};
  c.attrs.set("transA", int64_t{trans_a});
  c.attrs.set("transB", int64_t{trans_b});
  c.attrs.set("alpha", alpha);
  c.attrs.set("beta", beta);
  return c;
}

TEST(CpuGemm, MatchesReferenceAcrossShapesAndFlags) {
  // ResNet's classifier: transB, bias of [N].
  expect_matches_reference(gemm_case({2, 64}, {10, 64}, {10}, false, true, 1.0f, 1.0f, 1), kGemmTolerance, "Gemm fc");
  expect_matches_reference(gemm_case({9, 5}, {9, 7}, {5, 7}, true, false, 0.5f, 2.0f, 2), kGemmTolerance,
                           "Gemm transA full C");
  expect_matches_reference(gemm_case({4, 6}, {6, 3}, {4, 1}, false, false, 1.5f, -1.0f, 3), kGemmTolerance,
                           "Gemm column C");
  expect_matches_reference(gemm_case({4, 6}, {3, 6}, {1, 3}, false, true, 2.0f, 1.0f, 4), kGemmTolerance,
                           "Gemm alpha with row C");
}

}  // namespace
}  // namespace kiln::backends::cpu::testing
