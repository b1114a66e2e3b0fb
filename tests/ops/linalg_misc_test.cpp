// DepthToSpace / SpaceToDepth and Einsum.
#include <gtest/gtest.h>

#include <vector>

#include "op_test_util.h"

namespace kiln::testing {
namespace {

Tensor run_single(OpRun run) {
  auto result = run_op(run);
  EXPECT_TRUE(result.ok()) << result.status().to_string();
  return result.ok() ? (*result)[0] : Tensor();
}

Attributes block_attrs(int64_t blocksize, const char* mode = nullptr) {
  Attributes a;
  a.set("blocksize", blocksize);
  if (mode) a.set("mode", std::string(mode));
  return a;
}

Attributes equation(const char* eq) {
  Attributes a;
  a.set("equation", std::string(eq));
  return a;
}

TEST(LinalgSpaceDepth, DepthToSpaceHandComputedBothModes) {
  // C = 4 channels of a 1x1 image, blocksize 2: DCR reads channel (bh*2+bw); CRD reads the same
  // for one output channel, so use 8 channels (2 output channels) to tell them apart.
  std::vector<double> values(8);
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<double>(i);
  Tensor x = make_tensor(DType::kFloat32, {1, 8, 1, 1}, values);
  Tensor dcr = run_single({OpKind::DepthToSpace, {x}, block_attrs(2, "DCR")});
  ASSERT_EQ(dcr.shape(), (Shape{1, 2, 2, 2}));
  // DCR: channel = (block) * C_out + c.
  EXPECT_EQ(values_of(dcr), (std::vector<double>{0, 2, 4, 6, 1, 3, 5, 7}));
  Tensor crd = run_single({OpKind::DepthToSpace, {x}, block_attrs(2, "CRD")});
  // CRD: channel = c * 4 + block.
  EXPECT_EQ(values_of(crd), (std::vector<double>{0, 1, 2, 3, 4, 5, 6, 7}));
}

TEST(LinalgSpaceDepth, DepthToSpaceOfSpaceToDepthIsIdentity) {
  for (DType dtype : {DType::kFloat32, DType::kInt64, DType::kUInt8}) {
    Tensor x = random_tensor(dtype, {2, 3, 6, 4}, 81, 0, 100);
    Tensor packed = run_single({OpKind::SpaceToDepth, {x}, block_attrs(2)});
    ASSERT_EQ(packed.shape(), (Shape{2, 12, 3, 2}));
    Tensor back = run_single({OpKind::DepthToSpace, {packed}, block_attrs(2, "DCR")});
    EXPECT_EQ(values_of(back), values_of(x)) << dtype_name(dtype);
  }
}

TEST(LinalgSpaceDepth, IndivisibleShapesAreInvalidArgument) {
  auto d2s = run_op({OpKind::DepthToSpace, {random_tensor(DType::kFloat32, {1, 6, 2, 2}, 1)}, block_attrs(2)});
  ASSERT_FALSE(d2s.ok());
  EXPECT_EQ(d2s.status().code(), StatusCode::kInvalidArgument);
  auto s2d = run_op({OpKind::SpaceToDepth, {random_tensor(DType::kFloat32, {1, 1, 3, 2}, 1)}, block_attrs(2)});
  ASSERT_FALSE(s2d.ok());
  EXPECT_EQ(s2d.status().code(), StatusCode::kInvalidArgument);
}

TEST(Einsum, MatrixProductEqualsMatMul) {
  Tensor a = random_tensor(DType::kFloat32, {4, 5}, 91);
  Tensor b = random_tensor(DType::kFloat32, {5, 3}, 92);
  Tensor via_einsum = run_single({OpKind::Einsum, {a, b}, equation("ij,jk->ik")});
  Tensor via_matmul = run_single({OpKind::MatMul, {a, b}});
  EXPECT_LE(max_relative_error(via_einsum, via_matmul, 1e-3), 1e-5);
  Tensor implicit = run_single({OpKind::Einsum, {a, b}, equation("ij,jk")});
  EXPECT_LE(max_relative_error(implicit, via_matmul, 1e-3), 1e-5);
}

TEST(Einsum, DiagonalTraceAndTranspose) {
  Tensor m = random_tensor(DType::kFloat64, {4, 4}, 93);
  const std::vector<double> v = values_of(m);
  Tensor diag = run_single({OpKind::Einsum, {m}, equation("ii->i")});
  Tensor trace = run_single({OpKind::Einsum, {m}, equation("ii")});
  Tensor transposed = run_single({OpKind::Einsum, {m}, equation("ij->ji")});
  ASSERT_EQ(diag.shape(), Shape{4});
  ASSERT_EQ(trace.shape(), Shape{});
  double expected_trace = 0;
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(values_of(diag)[i], v[i * 5]);
    expected_trace += v[i * 5];
    for (size_t j = 0; j < 4; ++j) EXPECT_EQ(values_of(transposed)[j * 4 + i], v[i * 4 + j]);
  }
  EXPECT_NEAR(values_of(trace)[0], expected_trace, 1e-12);
}

TEST(Einsum, EllipsisBatchedProductEqualsMatMul) {
  Tensor a = random_tensor(DType::kFloat32, {2, 3, 4, 5}, 94);
  Tensor b = random_tensor(DType::kFloat32, {3, 5, 2}, 95);
  Tensor via_einsum = run_single({OpKind::Einsum, {a, b}, equation("...ij,...jk->...ik")});
  Tensor via_matmul = run_single({OpKind::MatMul, {a, b}});
  EXPECT_LE(max_relative_error(via_einsum, via_matmul, 1e-3), 1e-5);
}

TEST(Einsum, BadEquationsAreInvalidArgument) {
  Tensor a = random_tensor(DType::kFloat32, {2, 3}, 96);
  for (const char* eq : {"ij,jk->ik", "ijk->i", "i$->i", "ij->iz", "ij->ii"}) {
    auto result = run_op({OpKind::Einsum, {a}, equation(eq)});
    ASSERT_FALSE(result.ok()) << eq;
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument) << eq;
  }
  auto mismatch = run_op({OpKind::Einsum, {a, a}, equation("ij,jk->ik")});
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kiln::testing
