#include "backends/cuda/vendor/cublaslt_matmul.h"

#include <string>
#include <utility>

namespace kiln::cuda {
namespace {

Status blas_status(cublasStatus_t status, const char* what) {
  if (status == CUBLAS_STATUS_SUCCESS) return Status::ok_status();
  return internal_error(std::string(what) + ": " + cublasLtGetStatusName(status) + " (" + cublasLtGetStatusString(status) + ")");
}

struct PrecisionTypes {
  cudaDataType_t storage;
  cublasComputeType_t compute;
};

PrecisionTypes types_of(MatmulPrecision precision) {
  switch (precision) {
    case MatmulPrecision::kFloat32: return {CUDA_R_32F, CUBLAS_COMPUTE_32F};
    case MatmulPrecision::kTF32: return {CUDA_R_32F, CUBLAS_COMPUTE_32F_FAST_TF32};
    case MatmulPrecision::kFloat16: return {CUDA_R_16F, CUBLAS_COMPUTE_32F};
    case MatmulPrecision::kBFloat16: return {CUDA_R_16BF, CUBLAS_COMPUTE_32F};
  }
  return {CUDA_R_32F, CUBLAS_COMPUTE_32F};
}

cublasLtEpilogue_t epilogue_of(MatmulEpilogue epilogue) {
  switch (epilogue) {
    case MatmulEpilogue::kNone: return CUBLASLT_EPILOGUE_DEFAULT;
    case MatmulEpilogue::kBias: return CUBLASLT_EPILOGUE_BIAS;
    case MatmulEpilogue::kRelu: return CUBLASLT_EPILOGUE_RELU;
    case MatmulEpilogue::kBiasRelu: return CUBLASLT_EPILOGUE_RELU_BIAS;
    case MatmulEpilogue::kGelu: return CUBLASLT_EPILOGUE_GELU;
    case MatmulEpilogue::kBiasGelu: return CUBLASLT_EPILOGUE_GELU_BIAS;
  }
  return CUBLASLT_EPILOGUE_DEFAULT;
}

bool epilogue_has_bias(MatmulEpilogue epilogue) {
  return epilogue == MatmulEpilogue::kBias || epilogue == MatmulEpilogue::kBiasRelu || epilogue == MatmulEpilogue::kBiasGelu;
}

// A column-major rows x cols matrix with leading dimension ld, batched.
Status make_layout(cublasLtMatrixLayout_t* layout, cudaDataType_t type, int64_t rows, int64_t cols, int64_t ld,
                   int64_t batch, int64_t batch_stride) {
  KILN_RETURN_IF_ERROR(blas_status(cublasLtMatrixLayoutCreate(layout, type, static_cast<uint64_t>(rows),
                                                              static_cast<uint64_t>(cols), ld),
                                   "cublasLtMatrixLayoutCreate"));
  if (batch > 1) {
    const auto count = static_cast<int32_t>(batch);
    KILN_RETURN_IF_ERROR(blas_status(
        cublasLtMatrixLayoutSetAttribute(*layout, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &count, sizeof(count)),
        "cublasLtMatrixLayoutSetAttribute(BATCH_COUNT)"));
    KILN_RETURN_IF_ERROR(blas_status(cublasLtMatrixLayoutSetAttribute(*layout, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET,
                                                                      &batch_stride, sizeof(batch_stride)),
                                     "cublasLtMatrixLayoutSetAttribute(STRIDED_BATCH_OFFSET)"));
  }
  return Status::ok_status();
}

Status validate(const MatmulShape& s, MatmulEpilogue epilogue, const void* bias) {
  constexpr int64_t kMaxBatch = 2147483647;
  if (s.m <= 0 || s.n <= 0 || s.k <= 0) {
    return invalid_argument("MatmulPlan: m, n and k must be positive, got m=" + std::to_string(s.m) +
                            " n=" + std::to_string(s.n) + " k=" + std::to_string(s.k));
  }
  if (s.batch <= 0 || s.batch > kMaxBatch) return invalid_argument("MatmulPlan: batch must be in [1, 2^31), got " + std::to_string(s.batch));
  if (s.batch_stride_a < 0 || s.batch_stride_b < 0 || s.batch_stride_c < 0) return invalid_argument("MatmulPlan: negative batch stride");
  if (s.batch > 1 && s.batch_stride_c < s.m * s.n) {
    return invalid_argument("MatmulPlan: output batch stride " + std::to_string(s.batch_stride_c) +
                            " overlaps matrices of " + std::to_string(s.m * s.n) + " elements");
  }
  if (epilogue_has_bias(epilogue) && bias == nullptr) return invalid_argument("MatmulPlan: the bias epilogue needs a bias pointer");
  return Status::ok_status();
}

}  // namespace

const char* matmul_precision_name(MatmulPrecision precision) {
  switch (precision) {
    case MatmulPrecision::kFloat32: return "fp32";
    case MatmulPrecision::kTF32: return "tf32";
    case MatmulPrecision::kFloat16: return "fp16";
    case MatmulPrecision::kBFloat16: return "bf16";
  }
  return "unknown";
}

void CublasLtHandle::Deleter::operator()(cublasLtContext* handle) const { (void)cublasLtDestroy(handle); }

Result<CublasLtHandle> CublasLtHandle::create() {
  cublasLtHandle_t raw = nullptr;
  KILN_RETURN_IF_ERROR(blas_status(cublasLtCreate(&raw), "cublasLtCreate"));
  CublasLtHandle handle;
  handle.handle_.reset(raw);
  return handle;
}

Result<MatmulPlan> MatmulPlan::create(const CublasLtHandle& handle, MatmulPrecision precision, MatmulEpilogue epilogue,
                                      const MatmulShape& s, const void* bias, size_t workspace_limit,
                                      int algorithm_index) {
  if (algorithm_index < 0 || algorithm_index >= kMaxMatmulAlgorithms) {
    return invalid_argument("MatmulPlan: algorithm index " + std::to_string(algorithm_index) + " outside [0, " +
                            std::to_string(kMaxMatmulAlgorithms) + ")");
  }
  KILN_RETURN_IF_ERROR(validate(s, epilogue, bias));
  const PrecisionTypes types = types_of(precision);
  MatmulPlan plan;
  plan.handle_ = handle.get();

  KILN_RETURN_IF_ERROR(blas_status(cublasLtMatmulDescCreate(&plan.op_desc_, types.compute, CUDA_R_32F), "cublasLtMatmulDescCreate"));
  // Swapped operands (see the header): cuBLASLt's A is kiln's B, transposed when trans_b.
  const cublasOperation_t op_a = s.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_b = s.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasLtEpilogue_t lt_epilogue = epilogue_of(epilogue);
  KILN_RETURN_IF_ERROR(blas_status(cublasLtMatmulDescSetAttribute(plan.op_desc_, CUBLASLT_MATMUL_DESC_TRANSA, &op_a, sizeof(op_a)), "set TRANSA"));
  KILN_RETURN_IF_ERROR(blas_status(cublasLtMatmulDescSetAttribute(plan.op_desc_, CUBLASLT_MATMUL_DESC_TRANSB, &op_b, sizeof(op_b)), "set TRANSB"));
  KILN_RETURN_IF_ERROR(blas_status(cublasLtMatmulDescSetAttribute(plan.op_desc_, CUBLASLT_MATMUL_DESC_EPILOGUE, &lt_epilogue, sizeof(lt_epilogue)), "set EPILOGUE"));
  if (epilogue_has_bias(epilogue)) {
    KILN_RETURN_IF_ERROR(blas_status(cublasLtMatmulDescSetAttribute(plan.op_desc_, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof(bias)), "set BIAS_POINTER"));
  }

  // kiln B (k x n, or n x k when trans_b) is column-major n x k (k x n) with ld = its row length.
  const int64_t b_rows = s.trans_b ? s.k : s.n, b_cols = s.trans_b ? s.n : s.k;
  const int64_t a_rows = s.trans_a ? s.m : s.k, a_cols = s.trans_a ? s.k : s.m;
  KILN_RETURN_IF_ERROR(make_layout(&plan.a_layout_, types.storage, b_rows, b_cols, b_rows, s.batch, s.batch_stride_b));
  KILN_RETURN_IF_ERROR(make_layout(&plan.b_layout_, types.storage, a_rows, a_cols, a_rows, s.batch, s.batch_stride_a));
  KILN_RETURN_IF_ERROR(make_layout(&plan.c_layout_, types.storage, s.n, s.m, s.n, s.batch, s.batch_stride_c));

  cublasLtMatmulPreference_t preference = nullptr;
  KILN_RETURN_IF_ERROR(blas_status(cublasLtMatmulPreferenceCreate(&preference), "cublasLtMatmulPreferenceCreate"));
  cublasLtMatmulHeuristicResult_t heuristics[kMaxMatmulAlgorithms] = {};
  int found = 0;
  Status status = blas_status(cublasLtMatmulPreferenceSetAttribute(preference, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                                                   &workspace_limit, sizeof(workspace_limit)),
                              "set MAX_WORKSPACE_BYTES");
  if (status.ok()) {
    status = blas_status(cublasLtMatmulAlgoGetHeuristic(plan.handle_, plan.op_desc_, plan.a_layout_, plan.b_layout_, plan.c_layout_,
                                                        plan.c_layout_, preference, kMaxMatmulAlgorithms, heuristics, &found),
                         "cublasLtMatmulAlgoGetHeuristic");
  }
  (void)cublasLtMatmulPreferenceDestroy(preference);
  KILN_RETURN_IF_ERROR(status);
  if (found == 0) {
    return unimplemented(std::string("MatmulPlan: cuBLASLt has no algorithm for ") + matmul_precision_name(precision) +
                         " m=" + std::to_string(s.m) + " n=" + std::to_string(s.n) + " k=" + std::to_string(s.k) +
                         " batch=" + std::to_string(s.batch));
  }
  if (algorithm_index >= found) {
    return not_found("MatmulPlan: cuBLASLt offers " + std::to_string(found) + " algorithms, not #" + std::to_string(algorithm_index));
  }
  plan.algo_ = heuristics[algorithm_index].algo;
  plan.workspace_bytes_ = heuristics[algorithm_index].workspaceSize;
  plan.algorithm_count_ = found;
  return plan;
}

MatmulPlan::~MatmulPlan() { release(); }

MatmulPlan::MatmulPlan(MatmulPlan&& other) noexcept { *this = std::move(other); }

MatmulPlan& MatmulPlan::operator=(MatmulPlan&& other) noexcept {
  if (this != &other) {
    release();
    handle_ = std::exchange(other.handle_, nullptr);
    op_desc_ = std::exchange(other.op_desc_, nullptr);
    a_layout_ = std::exchange(other.a_layout_, nullptr);
    b_layout_ = std::exchange(other.b_layout_, nullptr);
    c_layout_ = std::exchange(other.c_layout_, nullptr);
    algo_ = other.algo_;
    workspace_bytes_ = std::exchange(other.workspace_bytes_, 0);
    algorithm_count_ = std::exchange(other.algorithm_count_, 0);
  }
  return *this;
}

void MatmulPlan::release() {
  if (c_layout_ != nullptr) (void)cublasLtMatrixLayoutDestroy(c_layout_);
  if (b_layout_ != nullptr) (void)cublasLtMatrixLayoutDestroy(b_layout_);
  if (a_layout_ != nullptr) (void)cublasLtMatrixLayoutDestroy(a_layout_);
  if (op_desc_ != nullptr) (void)cublasLtMatmulDescDestroy(op_desc_);
  c_layout_ = b_layout_ = a_layout_ = nullptr;
  op_desc_ = nullptr;
}

Status MatmulPlan::run(const void* a, const void* b, void* c, void* workspace, cudaStream_t stream,
                       const void* residual) const {
  if (op_desc_ == nullptr) return failed_precondition("MatmulPlan::run on an empty (moved-from) plan");
  if (workspace_bytes_ > 0 && workspace == nullptr) {
    return invalid_argument("MatmulPlan::run: the plan needs " + std::to_string(workspace_bytes_) + " bytes of workspace");
  }
  constexpr float kAlpha = 1.0f;
  const float beta = residual != nullptr ? 1.0f : 0.0f;
  const void* c_in = residual != nullptr ? residual : c;
  return blas_status(cublasLtMatmul(handle_, op_desc_, &kAlpha, b, a_layout_, a, b_layout_, &beta, c_in, c_layout_, c, c_layout_,
                                    &algo_, workspace, workspace_bytes_, stream),
                     "cublasLtMatmul");
}

}  // namespace kiln::cuda
