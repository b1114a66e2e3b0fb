// ScaledDotProductAttention (a fused op: docs/fused-ops.md) through the flash-style kernel.
// Q, K, V [B, H, S, D] in FP16/BF16 with D = Dv in {64, 128}; the optional additive mask may
// have any shape that broadcasts to [B, H, Sq, Sk] and the storage dtype.
#include <cmath>

#include "backends/cuda/kernels/attention.h"
#include "backends/cuda/ops/op_adapter.h"
#include "core/broadcast.h"

namespace kiln::cuda {
namespace {

constexpr size_t kAttentionRank = 4;

Result<AttentionArgs> attention_args(const NodeDesc& node) {
  KILN_RETURN_IF_ERROR(expect_float_io(node, 3));
  const DType dtype = node.inputs[0].dtype;
  KILN_RETURN_IF_ERROR(expect(dtype == DType::kFloat16 || dtype == DType::kBFloat16, node, "float16 and bfloat16 only"));
  const Shape& q = node.inputs[0].shape;
  const Shape& k = node.inputs[1].shape;
  const Shape& v = node.inputs[2].shape;
  KILN_RETURN_IF_ERROR(expect(q.rank() == kAttentionRank && k.rank() == kAttentionRank && v.rank() == kAttentionRank, node, "rank-4 Q, K, V"));
  KILN_RETURN_IF_ERROR(expect(node.inputs[1].dtype == dtype && node.inputs[2].dtype == dtype, node, "Q, K, V must share a dtype"));
  KILN_RETURN_IF_ERROR(expect(k[0] == q[0] && v[0] == q[0] && k[1] == q[1] && v[1] == q[1], node, "batch and heads must match"));
  KILN_RETURN_IF_ERROR(expect(k[3] == q[3] && v[3] == q[3] && v[2] == k[2], node, "head dims must match and K, V share seq_k"));
  KILN_RETURN_IF_ERROR(expect(attention_supports_head_dim(q[3]), node, "head dim " + std::to_string(q[3]) + " (64 or 128 only)"));
  KILN_RETURN_IF_ERROR(expect(node.outputs[0].shape == q, node, "the output must have Q's shape"));
  AttentionArgs a;
  a.batch = q[0];
  a.heads = q[1];
  a.seq_q = q[2];
  a.seq_k = k[2];
  a.head_dim = q[3];
  a.scale = node.attrs().get_float("scale", 1.0f / std::sqrt(static_cast<float>(q[3])));
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
  return make_kernel("flash attention (wmma)", 0, [=](const ExecuteArgs& args) {
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
