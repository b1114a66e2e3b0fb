// Gemm (Y = alpha * op(A) op(B) + beta * C) through oneDNN matmul. C of shape [N] / [1, N] with
// alpha and beta 1 becomes the primitive's bias; any other C is broadcast into Y first and added by a sum
// post-op scaled by beta.
#include <string>
#include <vector>

#include "backends/cpu/kernel_table.h"
#include "backends/cpu/matmul_primitive.h"
#include "backends/cpu/onednn.h"
#include "backends/cpu/parallel.h"

namespace kiln::backends::cpu {
namespace {

enum GemmInput : size_t { kA = 0, kB = 1, kC = 2 };
constexpr size_t kMatrixRank = 2;

struct GemmPlan {
  MatmulSpec spec;
  bool c_as_bias = false;
  bool c_prefill = false;
  int64_t m = 0, n = 0;
  int64_t c_row_stride = 0, c_col_stride = 0;  // 0 along broadcast dims of C
};

Result<GemmPlan> gemm_plan(const NodeDesc& node) {
  if (node.inputs.size() < 2 || node.outputs.empty()) return invalid_argument("Gemm needs A, B and one output");
  const Shape& a = node.inputs[kA].shape;
  const Shape& b = node.inputs[kB].shape;
  if (a.rank() != kMatrixRank || b.rank() != kMatrixRank) return invalid_argument("Gemm: A and B must be 2-D");
  const bool trans_a = node.attrs().get_int("transA", 0) != 0;
  const bool trans_b = node.attrs().get_int("transB", 0) != 0;
  GemmPlan p;
  p.m = trans_a ? a[1] : a[0];
  const int64_t k = trans_a ? a[0] : a[1];
  p.n = trans_b ? b[0] : b[1];
  if ((trans_b ? b[1] : b[0]) != k) return invalid_argument("Gemm: inner dimensions differ");
  if (node.outputs[0].shape != Shape{p.m, p.n}) return invalid_argument("Gemm: unexpected output shape");
  MatmulSpec& s = p.spec;
  s.src_dims = {p.m, k};
  s.src_strides = trans_a ? std::vector<int64_t>{1, p.m} : std::vector<int64_t>{k, 1};
  s.weights_dims = {k, p.n};
  s.weights_strides = trans_b ? std::vector<int64_t>{1, k} : std::vector<int64_t>{p.n, 1};
  s.dst_dims = {p.m, p.n};
  s.alpha = node.attrs().get_float("alpha", 1.0f);
  const float beta = node.attrs().get_float("beta", 1.0f);
  if (node.inputs.size() > kC && node.inputs[kC].present() && beta != 0.0f) {
    const Shape& c = node.inputs[kC].shape;
    if (c.rank() > kMatrixRank) return invalid_argument("Gemm: C must have rank <= 2");
    const int64_t rows = c.rank() == kMatrixRank ? c[0] : 1;
    const int64_t cols = c.rank() >= 1 ? c[c.rank() - 1] : 1;
    if ((rows != 1 && rows != p.m) || (cols != 1 && cols != p.n)) return invalid_argument("Gemm: C does not broadcast");
    // oneDNN's output scale multiplies the bias too, so C is the bias only when neither scale
    // applies.
    if (rows == 1 && cols == p.n && beta == 1.0f && s.alpha == 1.0f) {
      p.c_as_bias = true;
      s.bias_dims = {1, p.n};
    } else {
      p.c_prefill = true;
      s.beta = beta;
      p.c_row_stride = rows == 1 ? 0 : cols;
      p.c_col_stride = cols == 1 ? 0 : 1;
    }
  }
  if (const Tensor* w = node.constant(kB)) s.constant_weights = w->raw_data();
  return p;
}

bool gemm_supported(const NodeDesc& node) {
  if (node.inputs.size() < 2 || node.outputs.size() != 1) return false;
  for (const TensorDesc& t : node.inputs)
    if (t.present() && t.dtype != DType::kFloat32) return false;
  return node.outputs[0].dtype == DType::kFloat32 && gemm_plan(node).ok();
}

class GemmKernel final : public Kernel {
 public:
  static Result<std::unique_ptr<Kernel>> make(const NodeDesc& node, int32_t, const CpuConfig& config) {
    KILN_ASSIGN_OR_RETURN(GemmPlan plan, gemm_plan(node));
    auto kernel = std::make_unique<GemmKernel>();
    kernel->threads_ = config.threads;
    kernel->plan_ = plan;
    KILN_RETURN_IF_ERROR(kernel->matmul_.prepare(plan.spec, config.threads));
    return std::unique_ptr<Kernel>(std::move(kernel));
  }
  size_t workspace_bytes() const override { return matmul_.scratchpad_bytes(); }
  std::string describe() const override { return "onednn matmul " + matmul_.impl(); }
  Status execute(const ExecuteArgs& args) const override {
    use_threads(threads_);
    if (plan_.c_prefill) broadcast_c(static_cast<const float*>(args.inputs[kC]), static_cast<float*>(args.outputs[0]));
    return onednn_call("gemm", [&] {
      matmul_.execute(args.inputs[kA], args.inputs[kB], plan_.c_as_bias ? args.inputs[kC] : nullptr, args.outputs[0],
                      args.workspace);
    });
  }

 private:
  void broadcast_c(const float* c, float* y) const {
    const int64_t n = plan_.n, rs = plan_.c_row_stride, cs = plan_.c_col_stride;
    parallel_for(plan_.m, 16, threads_, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i)
        for (int64_t j = 0; j < n; ++j) y[i * n + j] = c[i * rs + j * cs];
    });
  }

  int threads_ = 1;
  GemmPlan plan_;
  MatmulPrimitive matmul_;
};

}  // namespace

void register_gemm_kernels(CpuKernelTable& table) { table.add(OpKind::Gemm, {gemm_supported, GemmKernel::make}); }

}  // namespace kiln::backends::cpu
