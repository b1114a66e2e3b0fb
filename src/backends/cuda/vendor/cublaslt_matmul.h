// MatMul/Gemm through cuBLASLt. kiln tensors are row-major; cuBLASLt is column-major, so a
// row-major C[m,n] = A[m,k] * B[k,n] is computed as the column-major C^T = B^T * A^T (operands
// swapped, no data movement). The bias of the epilogue is per output column n, which is the row
// of C^T, as cuBLASLt's bias epilogue expects.
//
// Prepare once, run many: MatmulPlan::create picks the algorithm (heuristic query, bounded
// workspace) and binds the bias pointer (a weight, known at prepare time); run() only launches.
#pragma once

#include <cublasLt.h>
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <memory>

#include "kiln/status.h"

namespace kiln::cuda {

// Storage and compute: FP32 (exact FP32 math), TF32 (FP32 storage, TF32 tensor cores), FP16 and
// BF16 (16-bit storage, FP32 accumulation and scale).
enum class MatmulPrecision { kFloat32, kTF32, kFloat16, kBFloat16 };
enum class MatmulEpilogue { kNone, kBias, kRelu, kBiasRelu, kGelu, kBiasGelu };

const char* matmul_precision_name(MatmulPrecision precision);

// Row-major problem: C[b] (m x n) = op(A[b]) * op(B[b]) with op(A) m x k, op(B) k x n. A is
// stored m x k (k x m when trans_a), B k x n (n x k when trans_b), C m x n, all contiguous
// within a matrix. Batch strides are in elements; 0 broadcasts that operand over the batch.
struct MatmulShape {
  int64_t m = 0;
  int64_t n = 0;
  int64_t k = 0;
  int64_t batch = 1;
  bool trans_a = false;
  bool trans_b = false;
  int64_t batch_stride_a = 0;
  int64_t batch_stride_b = 0;
  int64_t batch_stride_c = 0;
};

// The workspace cuBLASLt may use; small so that many execution contexts can each own one.
inline constexpr size_t kDefaultMatmulWorkspaceBytes = size_t{4} << 20;
// How many of cuBLASLt's heuristic results a plan considers (the builder times each).
inline constexpr int kMaxMatmulAlgorithms = 8;

class CublasLtHandle {
 public:
  static Result<CublasLtHandle> create();
  cublasLtHandle_t get() const { return handle_.get(); }

 private:
  struct Deleter {
    void operator()(cublasLtContext* handle) const;
  };
  std::unique_ptr<cublasLtContext, Deleter> handle_;
};

class MatmulPlan {
 public:
  // bias: device vector of n elements in the storage dtype, required by the *Bias epilogues.
  // algorithm_index: which of the heuristic's results (best predicted first) to use.
  static Result<MatmulPlan> create(const CublasLtHandle& handle, MatmulPrecision precision, MatmulEpilogue epilogue,
                                   const MatmulShape& shape, const void* bias,
                                   size_t workspace_limit = kDefaultMatmulWorkspaceBytes, int algorithm_index = 0);
  ~MatmulPlan();
  MatmulPlan(MatmulPlan&& other) noexcept;
  MatmulPlan& operator=(MatmulPlan&& other) noexcept;
  MatmulPlan(const MatmulPlan&) = delete;
  MatmulPlan& operator=(const MatmulPlan&) = delete;

  // Workspace bytes run() needs (at most the limit given to create).
  size_t workspace_bytes() const { return workspace_bytes_; }
  // Number of heuristic results for this problem (at most kMaxMatmulAlgorithms).
  int algorithm_count() const { return algorithm_count_; }
  // c = a * b (+ residual) (+ epilogue): with a residual (a dense tensor of c's shape, which may
  // be c itself) cuBLASLt reads it as its C matrix with beta = 1, so the add costs no pass of its
  // own. workspace must hold workspace_bytes() (may be null when that is 0).
  Status run(const void* a, const void* b, void* c, void* workspace, cudaStream_t stream,
             const void* residual = nullptr) const;

 private:
  MatmulPlan() = default;
  void release();

  cublasLtHandle_t handle_ = nullptr;
  cublasLtMatmulDesc_t op_desc_ = nullptr;
  cublasLtMatrixLayout_t a_layout_ = nullptr;  // cuBLASLt's A operand: kiln's B
  cublasLtMatrixLayout_t b_layout_ = nullptr;  // cuBLASLt's B operand: kiln's A
  cublasLtMatrixLayout_t c_layout_ = nullptr;
  cublasLtMatmulAlgo_t algo_{};
  size_t workspace_bytes_ = 0;
  int algorithm_count_ = 0;
};

}  // namespace kiln::cuda
