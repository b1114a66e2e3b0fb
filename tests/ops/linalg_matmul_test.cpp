// MatMul, MatMulInteger and Gemm through run_op, checked against naive loops written here.
#include <gtest/gtest.h>

#include <vector>

#include "op_test_util.h"

namespace kiln::testing {
namespace {

// C[b] = A[b] x B[b] for contiguous [batch, M, K] x [batch, K, N], by the textbook triple loop.
std::vector<double> naive_matmul(const std::vector<double>& a, const std::vector<double>& b, int64_t batch, int64_t m,
                                 int64_t k, int64_t n) {
  std::vector<double> c(static_cast<size_t>(batch * m * n), 0.0);
  for (int64_t p = 0; p < batch; ++p)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double sum = 0.0;
        for (int64_t kk = 0; kk < k; ++kk)
          sum += a[static_cast<size_t>((p * m + i) * k + kk)] * b[static_cast<size_t>((p * k + kk) * n + j)];
        c[static_cast<size_t>((p * m + i) * n + j)] = sum;
      }
  return c;
}

Tensor run_single(OpRun run) {
  auto result = run_op(run);
  EXPECT_TRUE(result.ok()) << result.status().to_string();
  return result.ok() ? (*result)[0] : Tensor();
}

TEST(MatMul, HandComputed2x2) {
  Tensor a = make_tensor(DType::kFloat32, {2, 2}, {1, 2, 3, 4});
  Tensor b = make_tensor(DType::kFloat32, {2, 2}, {5, 6, 7, 8});
  Tensor c = run_single({OpKind::MatMul, {a, b}});
  EXPECT_EQ(values_of(c), (std::vector<double>{19, 22, 43, 50}));
}

TEST(MatMul, RandomMatchesNaiveLoopAllFloatTypes) {
  const int64_t m = 7, k = 13, n = 5;
  const std::vector<std::pair<DType, double>> cases = {
      {DType::kFloat32, 1e-5}, {DType::kFloat64, 1e-12}, {DType::kFloat16, 2e-2}, {DType::kBFloat16, 5e-2}};
  uint64_t seed = 11;
  for (auto [dtype, tol] : cases) {
    Tensor a = random_tensor(dtype, {m, k}, seed++);
    Tensor b = random_tensor(dtype, {k, n}, seed++);
    Tensor c = run_single({OpKind::MatMul, {a, b}});
    Tensor expected = make_tensor(dtype, {m, n}, naive_matmul(values_of(a), values_of(b), 1, m, k, n));
    EXPECT_LE(max_relative_error(c, expected, 1e-2), tol) << dtype_name(dtype);
  }
}

TEST(MatMul, IntegerTypesAreExact) {
  for (DType dtype : {DType::kInt32, DType::kInt64, DType::kUInt32, DType::kUInt64}) {
    const bool is_unsigned = dtype == DType::kUInt32 || dtype == DType::kUInt64;
    Tensor a = random_tensor(dtype, {4, 6}, 21, is_unsigned ? 0 : -50, 50);
    Tensor b = random_tensor(dtype, {6, 3}, 22, is_unsigned ? 0 : -50, 50);
    Tensor c = run_single({OpKind::MatMul, {a, b}});
    EXPECT_EQ(values_of(c), naive_matmul(values_of(a), values_of(b), 1, 4, 6, 3)) << dtype_name(dtype);
  }
}

TEST(MatMul, BatchedBroadcastEqualsPerBatchProduct) {
  // A [2, 3, 4, 5] x B [3, 5, 6]: B broadcasts over A's first dim.
  Tensor a = random_tensor(DType::kFloat32, {2, 3, 4, 5}, 31);
  Tensor b = random_tensor(DType::kFloat32, {3, 5, 6}, 32);
  Tensor c = run_single({OpKind::MatMul, {a, b}});
  ASSERT_EQ(c.shape(), (Shape{2, 3, 4, 6}));
  const std::vector<double> av = values_of(a), bv = values_of(b), cv = values_of(c);
  for (int64_t p = 0; p < 2; ++p)
    for (int64_t q = 0; q < 3; ++q) {
      std::vector<double> a_slice(av.begin() + (p * 3 + q) * 20, av.begin() + (p * 3 + q + 1) * 20);
      std::vector<double> b_slice(bv.begin() + q * 30, bv.begin() + (q + 1) * 30);
      Tensor single = run_single({OpKind::MatMul, {make_tensor(DType::kFloat32, {4, 5}, a_slice),
                                                   make_tensor(DType::kFloat32, {5, 6}, b_slice)}});
      std::vector<double> expected = values_of(single);
      for (size_t e = 0; e < expected.size(); ++e)
        EXPECT_EQ(cv[static_cast<size_t>((p * 3 + q) * 24) + e], expected[e]);
    }
}

TEST(MatMul, OneDimensionalOperandsDropThePromotedDim) {
  Tensor v = random_tensor(DType::kFloat32, {5}, 41);
  Tensor m = random_tensor(DType::kFloat32, {2, 5, 3}, 42);
  Tensor vm = run_single({OpKind::MatMul, {v, m}});
  EXPECT_EQ(vm.shape(), (Shape{2, 3}));
  Tensor mt = random_tensor(DType::kFloat32, {2, 3, 5}, 43);
  Tensor mv = run_single({OpKind::MatMul, {mt, v}});
  EXPECT_EQ(mv.shape(), (Shape{2, 3}));
  Tensor dot = run_single({OpKind::MatMul, {v, v}});
  EXPECT_EQ(dot.shape(), Shape{});
  double expected = 0;
  for (double x : values_of(v)) expected += x * x;
  EXPECT_NEAR(values_of(dot)[0], expected, 1e-5);
}

TEST(MatMul, InnerDimensionMismatchIsInvalidArgument) {
  auto result = run_op({OpKind::MatMul, {random_tensor(DType::kFloat32, {2, 3}, 1), random_tensor(DType::kFloat32, {4, 2}, 2)}});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
}

TEST(MatMul, MissingInputIsInvalidArgument) {
  auto result = run_op({OpKind::MatMul, {random_tensor(DType::kFloat32, {2, 3}, 1)}});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
}

TEST(MatMulInteger, ZeroPointsScalarAndPerRowColumn) {
  Tensor a = random_tensor(DType::kUInt8, {3, 4}, 51, 0, 255);
  Tensor b = random_tensor(DType::kInt8, {4, 2}, 52, -128, 127);
  Tensor a_zp = make_tensor(DType::kUInt8, {3}, {10, 128, 3});
  Tensor b_zp = make_tensor(DType::kInt8, {}, {-5});
  Tensor c = run_single({OpKind::MatMulInteger, {a, b, a_zp, b_zp}});
  ASSERT_EQ(c.dtype(), DType::kInt32);
  std::vector<double> av = values_of(a), bv = values_of(b);
  const double a_shift[3] = {10, 128, 3};
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t kk = 0; kk < 4; ++kk) av[static_cast<size_t>(i * 4 + kk)] -= a_shift[i];
  for (double& x : bv) x += 5;
  EXPECT_EQ(values_of(c), naive_matmul(av, bv, 1, 3, 4, 2));

  Tensor b_zp_cols = make_tensor(DType::kInt8, {2}, {1, -2});
  Tensor c2 = run_single({OpKind::MatMulInteger, {a, b, Tensor(), b_zp_cols}});
  std::vector<double> bv2 = values_of(b);
  for (int64_t kk = 0; kk < 4; ++kk) {
    bv2[static_cast<size_t>(kk * 2)] -= 1;
    bv2[static_cast<size_t>(kk * 2 + 1)] += 2;
  }
  EXPECT_EQ(values_of(c2), naive_matmul(values_of(a), bv2, 1, 3, 4, 2));
}

// Gemm == alpha * op(A) op(B) + beta * C for every transpose combination and C broadcast.
TEST(Gemm, MatchesDefinitionForTransposesAndBroadcastC) {
  const int64_t m = 4, k = 6, n = 3;
  const float alpha = 0.75f, beta = -1.5f;
  uint64_t seed = 61;
  for (int trans_a = 0; trans_a < 2; ++trans_a)
    for (int trans_b = 0; trans_b < 2; ++trans_b)
      for (const Shape& c_shape : {Shape{m, n}, Shape{n}, Shape{m, 1}, Shape{}}) {
        Tensor a = random_tensor(DType::kFloat32, trans_a ? Shape{k, m} : Shape{m, k}, seed++);
        Tensor b = random_tensor(DType::kFloat32, trans_b ? Shape{n, k} : Shape{k, n}, seed++);
        Tensor c = random_tensor(DType::kFloat32, c_shape, seed++);
        Attributes attrs;
        attrs.set("alpha", alpha);
        attrs.set("beta", beta);
        attrs.set("transA", int64_t{trans_a});
        attrs.set("transB", int64_t{trans_b});
        Tensor y = run_single({OpKind::Gemm, {a, b, c}, attrs});
        const std::vector<double> av = values_of(a), bv = values_of(b), cv = values_of(c);
        std::vector<double> expected(static_cast<size_t>(m * n));
        for (int64_t i = 0; i < m; ++i)
          for (int64_t j = 0; j < n; ++j) {
            double sum = 0;
            for (int64_t kk = 0; kk < k; ++kk)
              sum += av[static_cast<size_t>(trans_a ? kk * m + i : i * k + kk)] *
                     bv[static_cast<size_t>(trans_b ? j * k + kk : kk * n + j)];
            const int64_t c_row = c_shape.rank() == 2 && c_shape[0] != 1 ? i : 0;
            const int64_t c_col = c_shape.rank() >= 1 && c_shape[c_shape.rank() - 1] != 1 ? j : 0;
            const int64_t c_cols = c_shape.rank() >= 1 ? c_shape[c_shape.rank() - 1] : 1;
            expected[static_cast<size_t>(i * n + j)] = alpha * sum + beta * cv[static_cast<size_t>(c_row * c_cols + c_col)];
          }
        EXPECT_LE(max_relative_error(y, make_tensor(DType::kFloat32, {m, n}, expected), 1e-3), 1e-5)
            << "transA=" << trans_a << " transB=" << trans_b << " C=" << c_shape.to_string();
      }
}

TEST(Gemm, WithoutCAndIntegers) {
  Tensor a = make_tensor(DType::kInt32, {2, 2}, {1, 2, 3, 4});
  Tensor b = make_tensor(DType::kInt32, {2, 2}, {5, 6, 7, 8});
  Attributes attrs;
  attrs.set("alpha", 2.0f);
  Tensor y = run_single({OpKind::Gemm, {a, b}, attrs});
  EXPECT_EQ(values_of(y), (std::vector<double>{38, 44, 86, 100}));
}

TEST(Gemm, BadShapesAreInvalidArgument) {
  auto mismatch = run_op({OpKind::Gemm, {random_tensor(DType::kFloat32, {2, 3}, 1), random_tensor(DType::kFloat32, {4, 2}, 2)}});
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.status().code(), StatusCode::kInvalidArgument);
  auto bad_c = run_op({OpKind::Gemm, {random_tensor(DType::kFloat32, {2, 3}, 1), random_tensor(DType::kFloat32, {3, 2}, 2),
                                      random_tensor(DType::kFloat32, {3}, 3)}});
  ASSERT_FALSE(bad_c.ok());
  EXPECT_EQ(bad_c.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kiln::testing
