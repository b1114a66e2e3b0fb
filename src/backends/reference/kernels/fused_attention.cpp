// ScaledDotProductAttention = softmax(Q K^T * scale + mask) V over [B, H, S, D] operands: the
// Transpose, MatMul, Mul, Add, Softmax and MatMul reference kernels in turn. With qkv_layout
// "BSHD" the operands are [B, S, H, D]: they are transposed to [B, H, S, D] first and the result
// back, so both layouts share one definition. With "BS3HD" the operands are packed
// [B, S, 3, H, D]: Q, K and V are slots 0, 1 and 2 of inputs 0, 1 and 2, gathered out first.
#include <string>
#include <vector>

#include "backends/reference/kernel_util.h"
#include "backends/reference/kernels/fused_kernels.h"
#include "core/attention_layout.h"

namespace kiln::reference::fused {
namespace {

enum Input : size_t { kQ = 0, kK = 1, kV = 2, kMask = 3 };
constexpr size_t kRank = 4;

Status check_operands(const Tensor* q, const Tensor* k, const Tensor* v) {
  if (!q || !k || !v) return invalid_argument("ScaledDotProductAttention: inputs Q, K and V are required");
  if (q->rank() != kRank || k->rank() != kRank || v->rank() != kRank)
    return invalid_argument("ScaledDotProductAttention: Q, K and V must be 4-D [batch, heads, sequence, head size], got " +
                            q->shape().to_string() + ", " + k->shape().to_string() + ", " + v->shape().to_string());
  const Shape &qs = q->shape(), &ks = k->shape(), &vs = v->shape();
  if (qs[0] != ks[0] || qs[1] != ks[1] || qs[0] != vs[0] || qs[1] != vs[1] || qs[3] != ks[3] || ks[2] != vs[2])
    return invalid_argument("ScaledDotProductAttention: Q " + qs.to_string() + ", K " + ks.to_string() + " and V " +
                            vs.to_string() + " do not fit together");
  return {};
}

// [B, S, H, D] <-> [B, H, S, D]: the permutation is its own inverse.
Result<Tensor> swap_heads_and_sequence(const Tensor& t) {
  Attributes perm;
  perm.set("perm", std::vector<int64_t>{0, 2, 1, 3});
  return run_kernel(OpKind::Transpose, {&t}, perm);
}

// softmax(Q K^T * scale + mask) V on [B, H, S, D] operands.
Status attention_bhsd(const Tensor* q, const Tensor* k, const Tensor* v, const Tensor* mask, float scale, Tensor& out) {
  KILN_RETURN_IF_ERROR(check_operands(q, k, v));
  Attributes transpose;
  transpose.set("perm", std::vector<int64_t>{0, 1, 3, 2});
  KILN_ASSIGN_OR_RETURN(Tensor k_t, run_kernel(OpKind::Transpose, {k}, transpose));
  KILN_ASSIGN_OR_RETURN(Tensor scores, run_kernel(OpKind::MatMul, {q, &k_t}));
  const Tensor scale_tensor = from_doubles(q->dtype(), Shape{}, {static_cast<double>(scale)});
  KILN_ASSIGN_OR_RETURN(scores, run_kernel(OpKind::Mul, {&scores, &scale_tensor}));
  if (mask && mask->defined()) {
    const Shape before = scores.shape();
    auto masked = run_kernel(OpKind::Add, {&scores, mask});
    if (!masked.ok() || !(masked->shape() == before))
      return invalid_argument("ScaledDotProductAttention: mask " + mask->shape().to_string() +
                              " does not broadcast to the scores " + before.to_string());
    scores = std::move(*masked);
  }
  Attributes last_axis;
  last_axis.set("axis", int64_t{-1});
  KILN_ASSIGN_OR_RETURN(Tensor probabilities, run_kernel(OpKind::Softmax, {&scores}, last_axis));
  KILN_ASSIGN_OR_RETURN(out, run_kernel(OpKind::MatMul, {&probabilities, v}));
  return {};
}

// Slot `slot` of a packed [B, S, 3, H, D] operand: [B, S, H, D].
Result<Tensor> packed_slot(const Tensor* packed, int64_t slot) {
  if (!packed) return invalid_argument("ScaledDotProductAttention: inputs Q, K and V are required");
  if (packed->rank() != kRank + 1 || packed->shape()[2] != kPackedQkvSlots)
    return invalid_argument("ScaledDotProductAttention: packed operands must be 5-D [batch, sequence, 3, heads, head size], got " +
                            packed->shape().to_string());
  Attributes axis;
  axis.set("axis", int64_t{2});
  const Tensor index = Tensor::from_vector<int64_t>(DType::kInt64, Shape{}, {slot});
  return run_kernel(OpKind::Gather, {packed, &index}, axis);
}

Status attention_kernel(KernelContext& ctx) {
  const Tensor* q = ctx.input(kQ);
  const Tensor* k = ctx.input(kK);
  const Tensor* v = ctx.input(kV);
  Tensor unpacked[3];
  auto scale = ctx.attributes().require_float("scale");
  if (!scale.ok()) return invalid_argument("ScaledDotProductAttention: " + scale.status().message());
  auto layout = decode_qkv_layout(ctx.attributes());
  if (!layout.ok()) return invalid_argument("ScaledDotProductAttention: " + layout.status().message());
  const Tensor* mask = ctx.input(kMask);
  if (*layout == QkvLayout::kBHSD) return attention_bhsd(q, k, v, mask, *scale, ctx.outputs[0]);
  if (*layout == QkvLayout::kBS3HD) {
    const Tensor* packed[3] = {q, k, v};
    for (int64_t slot = 0; slot < kPackedQkvSlots; ++slot) {
      KILN_ASSIGN_OR_RETURN(unpacked[slot], packed_slot(packed[slot], slot));
    }
    q = &unpacked[0];
    k = &unpacked[1];
    v = &unpacked[2];
  }
  if (!q || !k || !v) return invalid_argument("ScaledDotProductAttention: inputs Q, K and V are required");
  if (q->rank() != kRank || k->rank() != kRank || v->rank() != kRank)
    return invalid_argument("ScaledDotProductAttention: Q, K and V must be 4-D [batch, sequence, heads, head size], got " +
                            q->shape().to_string() + ", " + k->shape().to_string() + ", " + v->shape().to_string());
  KILN_ASSIGN_OR_RETURN(const Tensor qh, swap_heads_and_sequence(*q));
  KILN_ASSIGN_OR_RETURN(const Tensor kh, swap_heads_and_sequence(*k));
  KILN_ASSIGN_OR_RETURN(const Tensor vh, swap_heads_and_sequence(*v));
  Tensor out;
  KILN_RETURN_IF_ERROR(attention_bhsd(&qh, &kh, &vh, mask, *scale, out));
  KILN_ASSIGN_OR_RETURN(ctx.outputs[0], swap_heads_and_sequence(out));
  return {};
}

}  // namespace

void register_attention_kernel(KernelTable& table) { table.add(OpKind::ScaledDotProductAttention, attention_kernel); }

}  // namespace kiln::reference::fused
