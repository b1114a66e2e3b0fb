// ScaledDotProductAttention (docs/fused-ops.md): softmax(Q K^T * scale + mask) V over
// [B, H, S, D] (qkv_layout "BHSD" only). Two batched oneDNN matmuls (K read transposed through
// its strides, the scale as the first one's output scale) around the vectorized masked softmax;
// the scores live in the workspace.
#include <string>
#include <vector>

#include "backends/cpu/kernel_table.h"
#include "backends/cpu/matmul_primitive.h"
#include "backends/cpu/onednn.h"
#include "backends/cpu/parallel.h"
#include "backends/cpu/row_math.h"
#include "backends/cpu/workspace.h"
#include "core/attention_layout.h"
#include "core/broadcast.h"

namespace kiln::backends::cpu {
namespace {

enum AttentionInput : size_t { kQ = 0, kK = 1, kV = 2, kMask = 3 };
constexpr size_t kAttentionRank = 4;

struct AttentionGeometry {
  int64_t batch = 0, heads = 0, sq = 0, sk = 0, d = 0, dv = 0;
  std::vector<int64_t> mask_strides;  // empty: no mask; else per [B, H, Sq, Sk] dim, 0 = broadcast
};

Result<AttentionGeometry> attention_geometry(const NodeDesc& node) {
  if (node.inputs.size() < 3 || node.outputs.size() != 1) return invalid_argument("attention needs Q, K, V");
  // The context matmul writes a dense [B, H, Sq, Dv]; sequence-major and packed operands
  // ("BSHD", "BS3HD") are left to the other backends (supports() says no, the builder falls back).
  KILN_ASSIGN_OR_RETURN(const QkvLayout layout, decode_qkv_layout(node.attrs()));
  if (layout != QkvLayout::kBHSD) return unimplemented(std::string("attention: qkv_layout ") + qkv_layout_name(layout) + " is not implemented on the CPU");
  const Shape &q = node.inputs[kQ].shape, &k = node.inputs[kK].shape, &v = node.inputs[kV].shape;
  if (q.rank() != kAttentionRank || k.rank() != kAttentionRank || v.rank() != kAttentionRank)
    return unimplemented("attention operands must be [B, H, S, D]");
  AttentionGeometry g{q[0], q[1], q[2], k[2], q[3], v[3], {}};
  if (k[0] != g.batch || v[0] != g.batch || k[1] != g.heads || v[1] != g.heads || k[3] != g.d || v[2] != g.sk)
    return invalid_argument("attention: Q " + q.to_string() + ", K " + k.to_string() + ", V " + v.to_string() +
                            " do not fit together");
  if (node.outputs[0].shape != Shape{g.batch, g.heads, g.sq, g.dv}) return invalid_argument("attention: output shape");
  if (node.inputs.size() > kMask && node.inputs[kMask].present()) {
    const Shape scores{g.batch, g.heads, g.sq, g.sk};
    auto joined = broadcast_shapes(node.inputs[kMask].shape, scores);
    if (!joined.ok() || *joined != scores) return invalid_argument("attention: mask does not broadcast to the scores");
    g.mask_strides = broadcast_strides(node.inputs[kMask].shape, scores);
  }
  if (!node.attrs().has("scale")) return invalid_argument("attention: attribute 'scale' is required");
  return g;
}

bool attention_supported(const NodeDesc& node) {
  for (const TensorDesc& t : node.inputs)
    if (t.present() && t.dtype != DType::kFloat32) return false;
  return !node.outputs.empty() && node.outputs[0].dtype == DType::kFloat32 && attention_geometry(node).ok();
}

class AttentionKernel final : public Kernel {
 public:
  static Result<std::unique_ptr<Kernel>> make(const NodeDesc& node, int32_t, const CpuConfig& config) {
    KILN_ASSIGN_OR_RETURN(AttentionGeometry g, attention_geometry(node));
    auto kernel = std::make_unique<AttentionKernel>();
    kernel->g_ = g;
    kernel->threads_ = config.threads;
    const int64_t b = g.batch, h = g.heads;
    MatmulSpec scores;
    scores.src_dims = {b, h, g.sq, g.d};
    scores.src_strides = dense_strides(scores.src_dims);
    scores.weights_dims = {b, h, g.d, g.sk};
    scores.weights_strides = {h * g.sk * g.d, g.sk * g.d, 1, g.d};  // K^T without moving K
    scores.dst_dims = {b, h, g.sq, g.sk};
    scores.alpha = node.attrs().get_float("scale", 1.0f);
    KILN_RETURN_IF_ERROR(kernel->scores_.prepare(scores, config.threads));
    MatmulSpec context;
    context.src_dims = scores.dst_dims;
    context.src_strides = dense_strides(context.src_dims);
    context.weights_dims = {b, h, g.sk, g.dv};
    context.weights_strides = dense_strides(context.weights_dims);
    context.dst_dims = {b, h, g.sq, g.dv};
    KILN_RETURN_IF_ERROR(kernel->context_.prepare(context, config.threads));
    kernel->scores_offset_ = kernel->layout_.add(static_cast<size_t>(b * h * g.sq * g.sk) * sizeof(float));
    kernel->scratchpad_offset_ =
        kernel->layout_.add(std::max(kernel->scores_.scratchpad_bytes(), kernel->context_.scratchpad_bytes()));
    return std::unique_ptr<Kernel>(std::move(kernel));
  }

  size_t workspace_bytes() const override { return layout_.total(); }
  std::string describe() const override {
    return "onednn matmul " + scores_.impl() + " / " + context_.impl() + " + cpu vectorized masked softmax";
  }

  Status execute(const ExecuteArgs& args) const override {
    use_threads(threads_);
    auto* scores = static_cast<float*>(workspace_at(args.workspace, scores_offset_));
    void* scratchpad = workspace_at(args.workspace, scratchpad_offset_);
    KILN_RETURN_IF_ERROR(onednn_call("attention scores", [&] {
      scores_.execute(args.inputs[kQ], args.inputs[kK], nullptr, scores, scratchpad);
    }));
    const auto* mask = g_.mask_strides.empty() ? nullptr : static_cast<const float*>(args.inputs[kMask]);
    const int64_t sk = g_.sk, sq = g_.sq, heads = g_.heads;
    parallel_for(g_.batch * heads * sq, 16, threads_, [&](int64_t begin, int64_t end) {
      for (int64_t row = begin; row < end; ++row) {
        const float* row_mask = nullptr;
        int64_t step = 0;
        if (mask) {
          const int64_t q = row % sq, h = (row / sq) % heads, b = row / (sq * heads);
          const auto& s = g_.mask_strides;
          row_mask = mask + b * s[0] + h * s[1] + q * s[2];
          step = s[3];
        }
        softmax_row(scores + row * sk, 1.0f, row_mask, step, scores + row * sk, sk);
      }
    });
    return onednn_call("attention context", [&] {
      context_.execute(scores, args.inputs[kV], nullptr, args.outputs[0], scratchpad);
    });
  }

 private:
  AttentionGeometry g_;
  int threads_ = 1;
  MatmulPrimitive scores_, context_;
  WorkspaceLayout layout_;
  size_t scores_offset_ = 0, scratchpad_offset_ = 0;
};

}  // namespace

void register_attention_kernels(CpuKernelTable& table) {
  table.add(OpKind::ScaledDotProductAttention, {attention_supported, AttentionKernel::make});
}

}  // namespace kiln::backends::cpu
