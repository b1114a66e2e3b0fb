// Gemm: Y = alpha * op(A) * op(B) + beta * C, with op = optional transpose and C broadcast
// unidirectionally to (M, N).
#include <cmath>
#include <string>
#include <vector>

#include "backends/reference/kernel_util.h"
#include "backends/reference/kernels/linalg_kernels.h"

namespace kiln::reference::linalg {
namespace {

enum GemmInput : size_t { kA = 0, kB = 1, kC = 2 };
constexpr size_t kMatrixRank = 2;
constexpr float kDefaultAlpha = 1.0f;
constexpr float kDefaultBeta = 1.0f;

struct GemmGeometry {
  int64_t m = 0, k = 0, n = 0;
  // Element (i, kk) of op(A) is a[i * a_row_stride + kk * a_col_stride]; likewise for B.
  int64_t a_row_stride = 0, a_col_stride = 0, b_row_stride = 0, b_col_stride = 0;
  int64_t c_row_stride = 0, c_col_stride = 0;  // 0 along broadcast dims of C
};

Result<GemmGeometry> gemm_geometry(const Tensor& a, const Tensor& b, const Tensor* c, const Attributes& attrs) {
  if (a.rank() != kMatrixRank || b.rank() != kMatrixRank)
    return invalid_argument("Gemm: A and B must be 2-D, got " + a.shape().to_string() + " and " + b.shape().to_string());
  const bool trans_a = attrs.get_int("transA", 0) != 0;
  const bool trans_b = attrs.get_int("transB", 0) != 0;
  GemmGeometry g;
  g.m = trans_a ? a.shape()[1] : a.shape()[0];
  g.k = trans_a ? a.shape()[0] : a.shape()[1];
  const int64_t k_b = trans_b ? b.shape()[1] : b.shape()[0];
  g.n = trans_b ? b.shape()[0] : b.shape()[1];
  if (g.k != k_b)
    return invalid_argument("Gemm: inner dimensions do not match: op(A) has K=" + std::to_string(g.k) + ", op(B) has K=" +
                            std::to_string(k_b));
  g.a_row_stride = trans_a ? 1 : g.k;
  g.a_col_stride = trans_a ? g.m : 1;
  g.b_row_stride = trans_b ? 1 : g.n;
  g.b_col_stride = trans_b ? g.k : 1;
  if (c && c->defined()) {
    const Shape& cs = c->shape();
    if (cs.rank() > kMatrixRank) return invalid_argument("Gemm: C must have rank <= 2, got " + cs.to_string());
    const int64_t c_rows = cs.rank() == kMatrixRank ? cs[0] : 1;
    const int64_t c_cols = cs.rank() >= 1 ? cs[cs.rank() - 1] : 1;
    if ((c_rows != 1 && c_rows != g.m) || (c_cols != 1 && c_cols != g.n))
      return invalid_argument("Gemm: C " + cs.to_string() + " cannot be broadcast to the output " +
                              std::to_string(g.m) + "x" + std::to_string(g.n));
    g.c_row_stride = c_rows == 1 ? 0 : c_cols;
    g.c_col_stride = c_cols == 1 ? 0 : 1;
  }
  return g;
}

// Integer Gemm applies alpha and beta as integers; a fractional or huge scale is rejected rather
// than silently truncated.
Result<uint64_t> integer_scale(float v, const char* name) {
  constexpr double kLimit = 9.0e18;  // inside int64's range
  if (!std::isfinite(v) || std::nearbyint(v) != v || std::fabs(static_cast<double>(v)) > kLimit)
    return invalid_argument(std::string("Gemm: attribute ") + name + " must be a whole number for integer inputs, got " +
                            std::to_string(v));
  return static_cast<uint64_t>(static_cast<int64_t>(v));
}

template <class T>
Status run_gemm(const Tensor& a, const Tensor& b, const Tensor* c, const GemmGeometry& g, float alpha, float beta,
                Tensor& out) {
  using Acc = AccumulatorOf<T>;
  Acc alpha_acc, beta_acc;
  if constexpr (std::is_integral_v<T>) {
    KILN_ASSIGN_OR_RETURN(alpha_acc, integer_scale(alpha, "alpha"));
    KILN_ASSIGN_OR_RETURN(beta_acc, integer_scale(beta, "beta"));
  } else {
    alpha_acc = alpha;
    beta_acc = beta;
  }
  const T* a_data = a.data<T>();
  const T* b_data = b.data<T>();
  const T* c_data = c && c->defined() ? c->data<T>() : nullptr;
  T* out_data = out.data<T>();
  std::vector<Acc> row(static_cast<size_t>(g.n));
  for (int64_t i = 0; i < g.m; ++i) {
    std::fill(row.begin(), row.end(), Acc(0));
    for (int64_t kk = 0; kk < g.k; ++kk) {
      const Acc av = to_accumulator(a_data[i * g.a_row_stride + kk * g.a_col_stride]);
      const T* b_row = b_data + kk * g.b_row_stride;
      for (int64_t j = 0; j < g.n; ++j) row[static_cast<size_t>(j)] += av * to_accumulator(b_row[j * g.b_col_stride]);
    }
    for (int64_t j = 0; j < g.n; ++j) {
      Acc value = alpha_acc * row[static_cast<size_t>(j)];
      if (c_data) value += beta_acc * to_accumulator(c_data[i * g.c_row_stride + j * g.c_col_stride]);
      out_data[i * g.n + j] = from_accumulator<T>(value);
    }
  }
  return {};
}

Status gemm_kernel(KernelContext& ctx) {
  const Tensor* a = ctx.input(kA);
  const Tensor* b = ctx.input(kB);
  const Tensor* c = ctx.input(kC);
  if (!a || !b) return invalid_argument("Gemm: inputs A and B are required");
  if (a->dtype() != b->dtype() || (c && c->dtype() != a->dtype()))
    return invalid_argument("Gemm: A, B and C must have the same dtype");
  if (!is_matmul_dtype(a->dtype())) return unsupported_dtype("Gemm", a->dtype());
  KILN_ASSIGN_OR_RETURN(GemmGeometry g, gemm_geometry(*a, *b, c, ctx.attributes()));
  const float alpha = ctx.attributes().get_float("alpha", kDefaultAlpha);
  const float beta = ctx.attributes().get_float("beta", kDefaultBeta);
  Tensor out(a->dtype(), Shape{g.m, g.n});
  Status status;
  visit_dtype(a->dtype(), [&](auto tag) { status = run_gemm<decltype(tag)>(*a, *b, c, g, alpha, beta, out); });
  KILN_RETURN_IF_ERROR(status);
  ctx.outputs[0] = std::move(out);
  return {};
}

}  // namespace

void register_gemm_kernel(KernelTable& table) { table.add(OpKind::Gemm, gemm_kernel); }

}  // namespace kiln::reference::linalg
