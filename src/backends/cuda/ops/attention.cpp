// ScaledDotProductAttention (a fused op: docs/fused-ops.md) through the flash-style kernel.
// Q, K, V [B, H, S, D] (qkv_layout "BHSD"), [B, S, H, D] ("BSHD") or slots of packed
// [B, S, 3, H, D] projections ("BS3HD") in FP16/BF16 with D = Dv in {64, 128}; the kernel reads
// each in place through strides (packed: base pointer plus the slot's offset, sequence stride
// 3 H D), so no Split or Transpose copy precedes it. The optional additive
// mask may have any shape that broadcasts to [B, H, Sq, Sk] and the storage dtype.
#include <cmath>
#include <iterator>
#include <string>
#include <vector>

#include "backends/cuda/kernels/attention.h"
#include "backends/cuda/ops/op_adapter.h"
#include "core/attention_layout.h"
#include "core/broadcast.h"

namespace kiln::cuda {
namespace {

constexpr size_t kAttentionRank = 4;

// Strides of any slot of a packed [B, S, 3, H, D] operand (the slot's offset is added to its
// base pointer at execution).
AttentionStrides packed_strides(int64_t seq, int64_t heads, int64_t head_dim) {
  const int64_t row = kPackedQkvSlots * heads * head_dim;
  return {seq * row, head_dim, row};
}

Result<AttentionArgs> attention_args(const NodeDesc& node) {
  KILN_RETURN_IF_ERROR(expect_float_io(node, 3));
  const DType dtype = node.inputs[0].dtype;
  KILN_RETURN_IF_ERROR(expect(dtype == DType::kFloat16 || dtype == DType::kBFloat16, node, "float16 and bfloat16 only"));
  KILN_ASSIGN_OR_RETURN(const QkvLayout layout, decode_qkv_layout(node.attrs()));
  const QkvAxes ax = qkv_axes(layout);
  const Shape& q = node.inputs[0].shape;
  const Shape& k = node.inputs[1].shape;
  const Shape& v = node.inputs[2].shape;
  const size_t rank = qkv_operand_rank(layout);
  KILN_RETURN_IF_ERROR(expect(q.rank() == rank && k.rank() == rank && v.rank() == rank, node,
                              std::string("Q, K, V ") + qkv_layout_dims(layout)));
  KILN_RETURN_IF_ERROR(expect(node.inputs[1].dtype == dtype && node.inputs[2].dtype == dtype, node, "Q, K, V must share a dtype"));
  KILN_RETURN_IF_ERROR(expect(k[ax.batch] == q[ax.batch] && v[ax.batch] == q[ax.batch] && k[ax.heads] == q[ax.heads] &&
                                  v[ax.heads] == q[ax.heads],
                              node, "batch and heads must match"));
  KILN_RETURN_IF_ERROR(expect(k[ax.dim] == q[ax.dim] && v[ax.dim] == q[ax.dim] && v[ax.seq] == k[ax.seq], node,
                              "head dims must match and K, V share seq_k"));
  const bool packed = layout == QkvLayout::kBS3HD;
  if (packed) {
    KILN_RETURN_IF_ERROR(expect(q[ax.slot] == kPackedQkvSlots && k[ax.slot] == kPackedQkvSlots && v[ax.slot] == kPackedQkvSlots,
                                node, "packed operands hold 3 slots on axis 2"));
  }
  KILN_RETURN_IF_ERROR(expect(attention_supports_head_dim(q[ax.dim]), node, "head dim " + std::to_string(q[ax.dim]) + " (64 or 128 only)"));
  AttentionArgs a;
  a.batch = q[ax.batch];
  a.heads = q[ax.heads];
  a.seq_q = q[ax.seq];
  a.seq_k = k[ax.seq];
  a.head_dim = q[ax.dim];
  // Dv == D, so the output has Q's shape in the output layout.
  const Shape expected_out = packed ? Shape{a.batch, a.seq_q, a.heads, a.head_dim} : q;
  KILN_RETURN_IF_ERROR(expect(node.outputs[0].shape == expected_out, node, "the output must be " + expected_out.to_string()));
  set_dense_attention_strides(a, qkv_output_layout(layout) == QkvLayout::kBSHD);
  if (packed) {
    a.q_strides = packed_strides(a.seq_q, a.heads, a.head_dim);
    a.k_strides = a.v_strides = packed_strides(a.seq_k, a.heads, a.head_dim);
  }
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

// One tactic per query-tile height: 128 rows reuse each K/V fragment across more queries, 64
// rows give small batches twice the blocks; which wins depends on the grid, so it is timed.
Result<std::vector<Tactic>> attention_tactics(const CudaContext&, const NodeDesc&) {
  std::vector<Tactic> tactics;
  for (size_t i = 0; i < std::size(kAttentionBlockRows); ++i)
    tactics.push_back({static_cast<int32_t>(i), std::to_string(kAttentionBlockRows[i]) + " query rows per block"});
  return tactics;
}

Result<std::unique_ptr<Kernel>> prepare_attention(const CudaContext&, const NodeDesc& node, int32_t tactic) {
  KILN_RETURN_IF_ERROR(expect(tactic >= 0 && static_cast<size_t>(tactic) < std::size(kAttentionBlockRows), node,
                              "unknown attention tactic " + std::to_string(tactic)));
  KILN_ASSIGN_OR_RETURN(AttentionArgs prepared, attention_args(node));
  prepared.block_rows = kAttentionBlockRows[tactic];
  const bool has_mask = prepared.mask != nullptr;
  const DType dtype = node.inputs[0].dtype;
  // attention_args accepted the layout, so it decodes.
  const QkvLayout layout = *decode_qkv_layout(node.attrs());
  const std::string description = std::string("flash attention (mma.sync, ") + qkv_layout_name(layout) + ", " +
                                  std::to_string(prepared.block_rows) + " query rows)";
  // Packed operands: K and V start one and two slots (H D elements each) into their rows.
  const size_t slot_bytes =
      layout == QkvLayout::kBS3HD ? static_cast<size_t>(prepared.heads * prepared.head_dim) * dtype_size(dtype) : 0;
  return make_kernel(description, 0, [=](const ExecuteArgs& args) {
    KILN_RETURN_IF_ERROR(expect_args(args, has_mask ? 4 : 3, 1));
    AttentionArgs a = prepared;
    a.q = args.inputs[0];
    a.k = static_cast<const char*>(args.inputs[1]) + slot_bytes;
    a.v = static_cast<const char*>(args.inputs[2]) + 2 * slot_bytes;
    a.mask = has_mask ? args.inputs[3] : nullptr;
    a.out = args.outputs[0];
    return scaled_dot_product_attention(dtype, a, stream_of(args));
  });
}

}  // namespace

void register_attention_ops(AdapterTable& table) {
  table.add_by_name("ScaledDotProductAttention", {check_attention, attention_tactics, prepare_attention});
}

}  // namespace kiln::cuda
