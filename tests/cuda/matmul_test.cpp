// MatMul/Gemm through cuBLASLt vs the reference MatMul (+ Add, Relu, Gelu for the epilogues):
// every precision, transposes, strided batches, odd sizes.
#include <gtest/gtest.h>

#include "backends/cuda/vendor/cublaslt_matmul.h"
#include "cuda_test_util.h"

namespace kiln::cuda {
namespace {

using namespace kiln::cuda::testing;

struct PrecisionCase {
  MatmulPrecision precision;
  DType storage;
  double tolerance;
};
constexpr PrecisionCase kPrecisions[] = {
    {MatmulPrecision::kFloat32, DType::kFloat32, kFloat32Tolerance},
    {MatmulPrecision::kTF32, DType::kFloat32, kTF32Tolerance},
    {MatmulPrecision::kFloat16, DType::kFloat16, kHalfTolerance},
    {MatmulPrecision::kBFloat16, DType::kBFloat16, kHalfTolerance},
};

// The row-major matrix transposed (rows x cols -> cols x rows), per batch.
std::vector<float> transposed(const std::vector<float>& v, int64_t batch, int64_t rows, int64_t cols) {
  std::vector<float> out(v.size());
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c) out[static_cast<size_t>(b * rows * cols + c * rows + r)] = v[static_cast<size_t>(b * rows * cols + r * cols + c)];
  return out;
}

// The reference result of the whole problem: MatMul on untransposed operands, then the epilogue.
std::vector<float> reference_matmul(const MatmulShape& s, bool b_broadcast, const std::vector<float>& a,
                                    const std::vector<float>& b, const std::vector<float>& bias, MatmulEpilogue epilogue) {
  const int64_t b_batch = b_broadcast ? 1 : s.batch;
  const std::vector<float> a_plain = s.trans_a ? transposed(a, s.batch, s.k, s.m) : a;
  const std::vector<float> b_plain = s.trans_b ? transposed(b, b_batch, s.n, s.k) : b;
  const Tensor a_ref = float_tensor(Shape{s.batch, s.m, s.k}, a_plain);
  const Tensor b_ref = b_broadcast ? float_tensor(Shape{s.k, s.n}, b_plain) : float_tensor(Shape{s.batch, s.k, s.n}, b_plain);
  Tensor out = run_reference(OpKind::MatMul, {&a_ref, &b_ref});
  const bool has_bias = epilogue == MatmulEpilogue::kBias || epilogue == MatmulEpilogue::kBiasRelu || epilogue == MatmulEpilogue::kBiasGelu;
  if (has_bias) {
    const Tensor bias_ref = float_tensor(Shape{s.n}, bias);
    out = run_reference(OpKind::Add, {&out, &bias_ref});
  }
  if (epilogue == MatmulEpilogue::kRelu || epilogue == MatmulEpilogue::kBiasRelu) out = run_reference(OpKind::Relu, {&out});
  if (epilogue == MatmulEpilogue::kGelu || epilogue == MatmulEpilogue::kBiasGelu) {
    Attributes attrs;
    attrs.set("approximate", std::string("tanh"));  // cuBLASLt's GELU epilogue is the tanh form
    out = run_reference(OpKind::Gelu, {&out}, attrs);
  }
  return tensor_values(out);
}

struct Problem {
  MatmulShape shape;
  bool b_broadcast;  // B shared by every batch (batch stride 0), like a weight
  MatmulEpilogue epilogue;
};

double run_problem(const CublasLtHandle& handle, const PrecisionCase& p, Problem problem, uint32_t salt) {
  MatmulShape& s = problem.shape;
  const int64_t a_count = s.batch * s.m * s.k;
  const int64_t b_count = (problem.b_broadcast ? 1 : s.batch) * s.k * s.n;
  const int64_t c_count = s.batch * s.m * s.n;
  s.batch_stride_a = s.m * s.k;
  s.batch_stride_b = problem.b_broadcast ? 0 : s.k * s.n;
  s.batch_stride_c = s.m * s.n;
  const std::vector<float> a = random_values(p.storage, a_count, -1.0f, 1.0f, salt);
  const std::vector<float> b = random_values(p.storage, b_count, -1.0f, 1.0f, salt + 1);
  const std::vector<float> bias = random_values(p.storage, s.n, -1.0f, 1.0f, salt + 2);
  DeviceBuffer a_dev = upload(p.storage, a), b_dev = upload(p.storage, b), bias_dev = upload(p.storage, bias);
  auto c_dev = DeviceBuffer::allocate(static_cast<size_t>(c_count) * dtype_size(p.storage));
  EXPECT_TRUE(c_dev.ok());
  if (!c_dev.ok()) return INFINITY;
  auto plan = MatmulPlan::create(handle, p.precision, problem.epilogue, s, bias_dev.data());
  EXPECT_TRUE(plan.ok()) << plan.status().to_string();
  if (!plan.ok()) return INFINITY;
  EXPECT_LE(plan->workspace_bytes(), kDefaultMatmulWorkspaceBytes);
  auto workspace = DeviceBuffer::allocate(plan->workspace_bytes());
  EXPECT_TRUE(workspace.ok());
  if (!workspace.ok()) return INFINITY;
  const Status status = plan->run(a_dev.data(), b_dev.data(), c_dev->data(), workspace->data(), nullptr);
  EXPECT_TRUE(status.ok()) << status.to_string();
  return max_relative_error(download(p.storage, *c_dev, c_count), reference_matmul(s, problem.b_broadcast, a, b, bias, problem.epilogue));
}

TEST(CudaMatmul, AllPrecisionsShapesAndEpiloguesMatchReference) {
  KILN_REQUIRE_GPU();
  auto handle = CublasLtHandle::create();
  ASSERT_TRUE(handle.ok()) << handle.status().to_string();
  const Problem problems[] = {
      {{64, 128, 256}, false, MatmulEpilogue::kNone},
      {{67, 45, 129}, false, MatmulEpilogue::kNone},  // odd sizes: no vectorized path
      {{64, 96, 80, 1, true, false}, false, MatmulEpilogue::kNone},
      {{64, 96, 80, 1, false, true}, false, MatmulEpilogue::kBias},  // Gemm with transB, like nn.Linear
      {{48, 64, 32, 3}, false, MatmulEpilogue::kNone},               // batched, every operand strided
      {{48, 64, 32, 4}, true, MatmulEpilogue::kBiasRelu},            // batched activations x shared weight
      {{128, 256, 64}, false, MatmulEpilogue::kRelu},
      {{128, 256, 64}, false, MatmulEpilogue::kBiasGelu},
      {{32, 64, 128, 1, false, true}, false, MatmulEpilogue::kGelu},
  };
  uint32_t salt = 0;
  for (const PrecisionCase& p : kPrecisions) {
    for (const Problem& problem : problems) {
      const MatmulShape& s = problem.shape;
      const std::string label = std::string(matmul_precision_name(p.precision)) + " m=" + std::to_string(s.m) + " n=" + std::to_string(s.n) +
                   " k=" + std::to_string(s.k) + " batch=" + std::to_string(s.batch) + (s.trans_a ? " transA" : "") +
                   (s.trans_b ? " transB" : "") + " epilogue=" + std::to_string(static_cast<int>(problem.epilogue));
      salt += 3;
      expect_within(run_problem(*handle, p, problem, salt), p.tolerance, label);
    }
  }
}

TEST(CudaMatmul, RejectsBadShapesAndMissingBias) {
  KILN_REQUIRE_GPU();
  auto handle = CublasLtHandle::create();
  ASSERT_TRUE(handle.ok()) << handle.status().to_string();
  MatmulShape empty;
  EXPECT_EQ(MatmulPlan::create(*handle, MatmulPrecision::kFloat32, MatmulEpilogue::kNone, empty, nullptr).status().code(),
            StatusCode::kInvalidArgument);
  MatmulShape ok_shape{8, 8, 8};
  EXPECT_EQ(MatmulPlan::create(*handle, MatmulPrecision::kFloat32, MatmulEpilogue::kBias, ok_shape, nullptr).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kiln::cuda
