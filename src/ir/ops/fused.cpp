// Schemas of the fused ops that graph passes create (docs/fused-ops.md is the contract):
// FusedConv, FusedMatMul and ScaledDotProductAttention. Each reuses the inference of the op it
// starts from, so a fused node infers exactly what the unfused chain did.
#include <string>

#include "core/attention_layout.h"
#include "core/fused_activation.h"
#include "ir/ops/channels_last.h"
#include "ir/ops/families.h"
#include "ir/ops/infer_util.h"
#include "ir/ops/linalg_schemas.h"
#include "ir/ops/nn_schemas.h"

namespace kiln::ir {
namespace {

enum FusedConvInput : size_t { kConvX = 0, kConvW = 1, kConvB = 2, kConvZ = 3 };
enum FusedMatMulInput : size_t { kMatA = 0, kMatB = 1, kMatBias = 2, kMatZ = 3 };
enum AttentionInput : size_t { kQ = 0, kK = 1, kV = 2, kMask = 3 };
constexpr size_t kAttentionRank = 4;  // of the scores and the mask: [batch, heads, sequence q, sequence k]
constexpr double kFlopsPerMultiplyAdd = 2.0;
// exp, sum, divide and the max subtraction per score.
constexpr double kSoftmaxFlopsPerScore = 4.0;

bool dims_conflict(const Dim& a, const Dim& b) { return a.is_known() && b.is_known() && a.value != b.value; }

Status check_activation(const InferContext& ctx) {
  auto spec = decode_fused_activation(ctx.attrs());
  if (!spec.ok()) return ctx.error(spec.status().message());
  return {};
}

Status require_dtype_of(const InferContext& ctx, size_t i, size_t like, const char* name) {
  if (ctx.input_dtype(i) != ctx.input_dtype(like))
    return ctx.error(std::string("input '") + name + "' has dtype " + std::string(dtype_name(ctx.input_dtype(i))) +
                     ", expected " + std::string(dtype_name(ctx.input_dtype(like))));
  return {};
}

// The residual Z (input `z_index`) is added elementwise, so it must have exactly Y's shape (as
// far as known) and the first input's dtype.
Status check_residual(const InferContext& ctx, const ValueType& y, size_t z_index) {
  if (!ctx.has_input(z_index)) return {};
  KILN_RETURN_IF_ERROR(require_dtype_of(ctx, z_index, 0, "Z"));
  const SymShape* z = ctx.input_shape(z_index);
  if (!z || !y.shape) return {};
  bool conflict = z->size() != y.shape->size();
  for (size_t d = 0; !conflict && d < z->size(); ++d) conflict = dims_conflict((*z)[d], (*y.shape)[d]);
  if (conflict)
    return ctx.error("input 'Z' " + sym_shape_to_string(*z) + " must have the output's shape " +
                     sym_shape_to_string(*y.shape));
  return {};
}

Status infer_fused_conv_nchw(InferContext& ctx) {
  KILN_RETURN_IF_ERROR(check_activation(ctx));
  KILN_RETURN_IF_ERROR(nn::infer_conv(ctx));
  return check_residual(ctx, ctx.outputs()[0], kConvZ);
}

// channels_last: X, W and Z are channels-last; channel_block: X and Z are channel-blocked. The
// NCHW rules above check their NCHW view.
Status infer_fused_conv(InferContext& ctx) {
  return infer_with_layout(ctx, infer_fused_conv_nchw, {kConvX, kConvW, kConvZ}, {kConvX, kConvZ});
}

// Conv's multiply-adds plus bias, residual and activation per output element.
double fused_conv_flops(const Node& node, const std::vector<Shape>& inputs, const std::vector<Shape>& outputs) {
  if (outputs.empty()) return 0.0;
  const double epilogue = (node.input(kConvB) ? 1.0 : 0.0) + (node.input(kConvZ) ? 1.0 : 0.0) +
                          (node.attrs().get_string(kActivationAttr, "").empty() ? 0.0 : 1.0);
  return nn::conv_flops(node, inputs, outputs) + epilogue * nn::known_numel(outputs[0]);
}

bool is_float(DType d) { return d == DType::kFloat32 || d == DType::kFloat16 || d == DType::kBFloat16 || d == DType::kFloat64; }

Status infer_fused_matmul(InferContext& ctx) {
  KILN_RETURN_IF_ERROR(check_activation(ctx));
  const DType dtype = ctx.input_dtype(kMatA);
  if (!is_float(dtype)) return ctx.error("dtype " + std::string(dtype_name(dtype)) + " is not supported (floats only)");
  KILN_RETURN_IF_ERROR(require_dtype_of(ctx, kMatB, kMatA, "B"));
  if (ctx.has_input(kMatBias)) KILN_RETURN_IF_ERROR(require_dtype_of(ctx, kMatBias, kMatA, "bias"));
  const int64_t trans_b = ctx.attrs().get_int("trans_b", 0);
  if (trans_b != 0 && trans_b != 1) return ctx.error("attribute 'trans_b' must be 0 or 1, got " + std::to_string(trans_b));
  const SymShape* a = ctx.input_shape(kMatA);
  const SymShape* b = ctx.input_shape(kMatB);
  if (!a || !b) {
    ctx.set_output(0, dtype, std::nullopt);
    return {};
  }
  if (a->size() < 2 || b->size() < 2)
    return ctx.error("A and B must have rank >= 2, got " + sym_shape_to_string(*a) + " and " + sym_shape_to_string(*b));
  SymShape b_view = *b;
  if (trans_b) std::swap(b_view[b_view.size() - 1], b_view[b_view.size() - 2]);
  KILN_ASSIGN_OR_RETURN(SymShape out, linalg::matmul_shape(ctx, *a, b_view));
  if (const SymShape* bias = ctx.has_input(kMatBias) ? ctx.input_shape(kMatBias) : nullptr) {
    if (bias->size() != 1 || dims_conflict((*bias)[0], out.back()))
      return ctx.error("input 'bias' " + sym_shape_to_string(*bias) + " must be 1-D with N=" + out.back().to_string() +
                       " elements");
  }
  ctx.set_output(0, dtype, std::move(out));
  return check_residual(ctx, ctx.outputs()[0], kMatZ);
}

double fused_matmul_flops(const Node& node, const std::vector<Shape>& inputs, const std::vector<Shape>& outputs) {
  if (outputs.empty()) return 0.0;
  const double epilogue = (node.input(kMatBias) ? 1.0 : 0.0) + (node.input(kMatZ) ? 1.0 : 0.0) +
                          (node.attrs().get_string(kActivationAttr, "").empty() ? 0.0 : 1.0);
  return linalg::matmul_flops(node, inputs, outputs) + epilogue * linalg::known_numel(outputs[0]);
}

// Each dim of the mask is 1 or the scores' dim: the mask broadcasts to [B, H, Sq, Sk].
Status check_mask(const InferContext& ctx, const SymShape& scores) {
  if (!ctx.has_input(kMask)) return {};
  KILN_RETURN_IF_ERROR(require_dtype_of(ctx, kMask, kQ, "mask"));
  const SymShape* mask = ctx.input_shape(kMask);
  if (!mask) return {};
  bool fits = mask->size() <= kAttentionRank;
  for (size_t d = 0; fits && d < mask->size(); ++d) {
    const Dim& m = (*mask)[d];
    fits = !(m.is_known() && m.value != 1 && dims_conflict(m, scores[kAttentionRank - mask->size() + d]));
  }
  if (!fits)
    return ctx.error("input 'mask' " + sym_shape_to_string(*mask) + " does not broadcast to the scores " +
                     sym_shape_to_string(scores));
  return {};
}

Status infer_attention(InferContext& ctx) {
  const DType dtype = ctx.input_dtype(kQ);
  if (!is_float(dtype)) return ctx.error("dtype " + std::string(dtype_name(dtype)) + " is not supported (floats only)");
  KILN_RETURN_IF_ERROR(require_dtype_of(ctx, kK, kQ, "K"));
  KILN_RETURN_IF_ERROR(require_dtype_of(ctx, kV, kQ, "V"));
  if (!ctx.attrs().has("scale")) return ctx.error("attribute 'scale' is required");
  auto layout = decode_qkv_layout(ctx.attrs());
  if (!layout.ok()) return ctx.error(layout.status().message());
  const QkvAxes ax = qkv_axes(*layout);
  const size_t rank = qkv_operand_rank(*layout);
  const bool packed = *layout == QkvLayout::kBS3HD;
  const char* names[] = {"Q", "K", "V"};
  SymShape shapes[3];
  bool known = true;
  for (size_t i = 0; i < 3; ++i) {
    const SymShape* s = ctx.input_shape(i);
    if (!s) {
      known = false;
      continue;
    }
    if (s->size() != rank)
      return ctx.error(std::string("input '") + names[i] + "' must be " + qkv_layout_dims(*layout) + ", got " +
                       sym_shape_to_string(*s));
    if (packed && dims_conflict((*s)[ax.slot], Dim::known(kPackedQkvSlots)))
      return ctx.error(std::string("input '") + names[i] + "' " + sym_shape_to_string(*s) +
                       " must pack 3 slots (Q, K, V) on axis 2");
    shapes[i] = *s;
  }
  if (!known) {
    ctx.set_output(0, dtype, std::nullopt);
    return {};
  }
  const SymShape& q = shapes[kQ];
  const SymShape& k = shapes[kK];
  const SymShape& v = shapes[kV];
  for (size_t d : {ax.batch, ax.heads})
    if (dims_conflict(q[d], k[d]) || dims_conflict(q[d], v[d]))
      return ctx.error("Q, K and V must agree on batch and heads: " + sym_shape_to_string(q) + ", " +
                       sym_shape_to_string(k) + ", " + sym_shape_to_string(v));
  if (dims_conflict(q[ax.dim], k[ax.dim]))
    return ctx.error("Q " + sym_shape_to_string(q) + " and K " + sym_shape_to_string(k) + " differ in head size");
  if (dims_conflict(k[ax.seq], v[ax.seq]))
    return ctx.error("K " + sym_shape_to_string(k) + " and V " + sym_shape_to_string(v) + " differ in sequence length");
  // The mask broadcasts to the scores [B, H, Sq, Sk] whatever the operands' layout.
  KILN_RETURN_IF_ERROR(check_mask(ctx, SymShape{q[ax.batch], q[ax.heads], q[ax.seq], k[ax.seq]}));
  // The output is Q's shape with Dv for D, in the operands' layout (packed: without the slots).
  SymShape out = q;
  out[ax.dim] = v[ax.dim];
  if (packed) out.erase(out.begin() + static_cast<std::ptrdiff_t>(ax.slot));
  ctx.set_output(0, dtype, std::move(out));
  return {};
}

// Two products (Q K^T and P V) plus scale, mask and softmax per score.
double attention_flops(const Node& node, const std::vector<Shape>& inputs, const std::vector<Shape>&) {
  auto layout = decode_qkv_layout(node.attrs());
  if (!layout.ok()) return 0.0;
  const size_t rank = qkv_operand_rank(*layout);
  if (inputs.size() < 3 || inputs[kQ].rank() != rank || inputs[kK].rank() != rank || inputs[kV].rank() != rank) return 0.0;
  const QkvAxes ax = qkv_axes(*layout);
  auto dim = [](int64_t d) { return d > 0 ? static_cast<double>(d) : 1.0; };
  const Shape& q = inputs[kQ];
  const double scores = dim(q[ax.batch]) * dim(q[ax.heads]) * dim(q[ax.seq]) * dim(inputs[kK][ax.seq]);
  const double per_score = kFlopsPerMultiplyAdd * (dim(q[ax.dim]) + dim(inputs[kV][ax.dim])) + kSoftmaxFlopsPerScore +
                           1.0 + (node.input(kMask) ? 1.0 : 0.0);
  return scores * per_score;
}

}  // namespace

void register_fused_schemas(SchemaRegistry& registry) {
  registry.add({OpKind::FusedConv, 2, 4, 1, 1, infer_fused_conv, fused_conv_flops});
  registry.add({OpKind::FusedMatMul, 2, 4, 1, 1, infer_fused_matmul, fused_matmul_flops});
  registry.add({OpKind::ScaledDotProductAttention, 3, 4, 1, 1, infer_attention, attention_flops});
}

}  // namespace kiln::ir
