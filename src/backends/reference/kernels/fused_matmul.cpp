// FusedMatMul = act(A @ op(B) + bias + Z), op(B) = B or B with its last two axes swapped
// (trans_b=1): the Transpose, MatMul, Add and activation reference kernels in turn.
#include <numeric>
#include <string>

#include "backends/reference/kernels/fused_kernels.h"

namespace kiln::reference::fused {
namespace {

enum Input : size_t { kA = 0, kB = 1, kBias = 2, kZ = 3 };
constexpr size_t kMinRank = 2;

Status fused_matmul_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(FusedActivationSpec activation, activation_of(ctx));
  const Tensor* a = ctx.input(kA);
  const Tensor* b = ctx.input(kB);
  if (!a || !b) return invalid_argument("FusedMatMul: inputs A and B are required");
  if (a->rank() < kMinRank || b->rank() < kMinRank)
    return invalid_argument("FusedMatMul: A and B must have rank >= 2, got " + a->shape().to_string() + " and " +
                            b->shape().to_string());
  const int64_t trans_b = ctx.attributes().get_int("trans_b", 0);
  if (trans_b != 0 && trans_b != 1)
    return invalid_argument("FusedMatMul: attribute 'trans_b' must be 0 or 1, got " + std::to_string(trans_b));
  Tensor transposed;
  if (trans_b) {
    std::vector<int64_t> perm(b->rank());
    std::iota(perm.begin(), perm.end(), 0);
    std::swap(perm[perm.size() - 1], perm[perm.size() - 2]);
    Attributes attrs;
    attrs.set("perm", perm);
    KILN_ASSIGN_OR_RETURN(transposed, run_kernel(OpKind::Transpose, {b}, attrs));
    b = &transposed;
  }
  auto y = run_kernel(OpKind::MatMul, {a, b});
  if (!y.ok()) return y.status().with_context("FusedMatMul");
  Tensor out = std::move(*y);
  const Tensor* bias = ctx.input(kBias);
  if (bias && bias->defined()) {
    const int64_t n = out.shape()[out.rank() - 1];
    if (bias->rank() != 1 || bias->shape()[0] != n || bias->dtype() != out.dtype())
      return invalid_argument("FusedMatMul: bias " + std::string(dtype_name(bias->dtype())) + bias->shape().to_string() +
                              " must be 1-D " + std::string(dtype_name(out.dtype())) + " with N=" + std::to_string(n) +
                              " elements");
    KILN_ASSIGN_OR_RETURN(out, run_kernel(OpKind::Add, {&out, bias}));
  }
  const Tensor* z = ctx.input(kZ);
  if (z && z->defined()) {
    if (z->shape() != out.shape() || z->dtype() != out.dtype())
      return invalid_argument("FusedMatMul: residual Z " + std::string(dtype_name(z->dtype())) + z->shape().to_string() +
                              " must be " + std::string(dtype_name(out.dtype())) + out.shape().to_string() +
                              ", the product's shape");
    KILN_ASSIGN_OR_RETURN(out, run_kernel(OpKind::Add, {&out, z}));
  }
  KILN_ASSIGN_OR_RETURN(ctx.outputs[0], apply_activation(activation, std::move(out)));
  return {};
}

}  // namespace

void register_fused_matmul_kernel(KernelTable& table) { table.add(OpKind::FusedMatMul, fused_matmul_kernel); }

}  // namespace kiln::reference::fused
