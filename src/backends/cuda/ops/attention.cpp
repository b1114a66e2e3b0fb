// ScaledDotProductAttention (a fused op: docs/fused-ops.md) through the flash-style kernel.
// Q, K, V [B, H, S, D] (qkv_layout "BHSD") or [B, S, H, D] ("BSHD") in FP16/BF16 with
// D = Dv in {64, 128}; the kernel reads either in place through strides. The optional additive
// mask may have any shape that broadcasts to [B, H, Sq, Sk] and the storage dtype.
#include <cmath>

#include "backends/cuda/kernels/attention.h"
#include "backends/cuda/ops/op_adapter.h"
#include "core/attention_layout.h"
#include "core/broadcast.h"

namespace kiln::cuda {
namespace {

constexpr size_t kAttentionRank = 4;

Result<AttentionArgs> attention_args(const NodeDesc& node) {
  KILN_RETURN_IF_ERROR(expect_float_io(node, 3));
  const DType dtype = node.inputs[0].dtype;
  KILN_RETURN_IF_ERROR(expect(dtype == DType::kFloat16 || dtype == DType::kBFloat16, node, "float16 and bfloat16 only"));
  KILN_ASSIGN_OR_RETURN(const QkvLayout layout, decode_qkv_layout(node.attrs()));
  const QkvAxes ax = qkv_axes(layout);
  const Shape& q = node.inputs[0].shape;
  const Shape& k = node.inputs[1].shape;
  const Shape& v = node.inputs[2].shape;
  KILN_RETURN_IF_ERROR(expect(q.rank() == kAttentionRank && k.rank() == kAttentionRank && v.rank() == kAttentionRank, node, "rank-4 Q, K, V"));
  KILN_RETURN_IF_ERROR(expect(node.inputs[1].dtype == dtype && node.inputs[2].dtype == dtype, node, "Q, K, V must share a dtype"));
  KILN_RETURN_IF_ERROR(expect(k[ax.batch] == q[ax.batch] && v[ax.batch] == q[ax.batch] && k[ax.heads] == q[ax.heads] &&
                                  v[ax.heads] == q[ax.heads],
                              node, "batch and heads must match"));
  KILN_RETURN_IF_ERROR(expect(k[ax.dim] == q[ax.dim] && v[ax.dim] == q[ax.dim] && v[ax.seq] == k[ax.seq], node,
                              "head dims must match and K, V share seq_k"));
  KILN_RETURN_IF_ERROR(expect(attention_supports_head_dim(q[ax.dim]), node, "head dim " + std::to_string(q[ax.dim]) + " (64 or 128 only)"));
  // Dv == D, so the output has Q's shape in either layout.
  KILN_RETURN_IF_ERROR(expect(node.outputs[0].shape == q, node, "the output must have Q's shape"));
  AttentionArgs a;
  a.batch = q[ax.batch];
  a.heads = q[ax.heads];
  a.seq_q = q[ax.seq];
  a.seq_k = k[ax.seq];
  a.head_dim = q[ax.dim];
  set_dense_attention_strides(a, layout == QkvLayout::kBSHD);
  a.scale = node.attrs().get_float("scale", 1.0f / std::sqrt(static_cast<float>(a.head_dim)));
  if (node.inputs.size() > 3 && node.inputs[3].present()) {
    const TensorDesc& mask = node.inputs[3];
    KILN_RETURN_IF_ERROR(expect(mask.dtype == dtype && mask.shape.rank() <= kAttentionRank, node, "the mask must have Q's dtype, rank <= 4"));
    const Shape full{a.batch, a.heads, a.seq_q, a.seq_k};
    KILN_ASSIGN_OR_RETURN(const Shape broadcast, broadcast_shapes(mask.shape, full));
    KILN_RETURN_IF_ERROR(expect(broadcast == full, node, "the mask does not broadcast to [B, H, Sq, Sk]"));
    const std::vector<int64_t> strides = broadcast_strides(mask.shape, full);
    for (size_t d = 0; d < kAttentionRank; ++d) a.mask_strides[d] = strides[d];
    a.mask = &a;  // marks "has a mask"; the real pointer comes with each execute
  }
  return a;
}

Status check_attention(const CudaContext&, const NodeDesc& node) { return attention_args(node).status(); }

Result<std::unique_ptr<Kernel>> prepare_attention(const CudaContext&, const NodeDesc& node, int32_t) {
  KILN_ASSIGN_OR_RETURN(const AttentionArgs prepared, attention_args(node));
  const bool has_mask = prepared.mask != nullptr;
  const DType dtype = node.inputs[0].dtype;
  // attention_args accepted the layout, so it decodes.
  const bool sequence_major = *decode_qkv_layout(node.attrs()) == QkvLayout::kBSHD;
  const std::string description = std::string("flash attention (mma.sync, ") + (sequence_major ? "BSHD" : "BHSD") + ")";
  return make_kernel(description, 0, [=](const ExecuteArgs& args) {
    KILN_RETURN_IF_ERROR(expect_args(args, has_mask ? 4 : 3, 1));
    AttentionArgs a = prepared;
    a.q = args.inputs[0];
    a.k = args.inputs[1];
    a.v = args.inputs[2];
    a.mask = has_mask ? args.inputs[3] : nullptr;
    a.out = args.outputs[0];
    return scaled_dot_product_attention(dtype, a, stream_of(args));
  });
}

}  // namespace

void register_attention_ops(AdapterTable& table) {
  table.add_by_name("ScaledDotProductAttention", {check_attention, nullptr, prepare_attention});
}

}  // namespace kiln::cuda
