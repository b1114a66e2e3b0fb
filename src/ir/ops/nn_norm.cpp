// Normalization schemas: BatchNormalization (inference and training_mode forms), InstanceNormalization,
// LayerNormalization, LpNormalization, LRN and MeanVarianceNormalization.
#include "core/norm_params.h"
#include "ir/ops/nn_schemas.h"

namespace kiln::ir::nn {
namespace {

constexpr size_t kMinChannelRank = 2;  // N, C, ...
// Rough per-element costs used by the FLOP estimates.
constexpr double kBatchNormFlopsPerElement = 2.0;    // scale and shift, folded
constexpr double kStatisticsFlopsPerElement = 5.0;   // mean, variance, normalize, scale, shift
constexpr double kLrnFlopsPerWindowElement = 2.0;

Dim channel_dim(const InferContext& ctx) {
  const SymShape* x = ctx.input_shape(0);
  return x && x->size() >= kMinChannelRank ? (*x)[1] : Dim{};
}

// training_mode=1 normalizes with the batch's own statistics and may output the updated running
// mean and variance (outputs 1 and 2, typed like input_mean and input_var).
constexpr size_t kRunningMeanOutput = 1;
constexpr size_t kRunningVarOutput = 2;
constexpr size_t kInputMean = 3;
constexpr size_t kInputVar = 4;

Status infer_batch_norm(InferContext& ctx) {
  const int64_t training_mode = ctx.attrs().get_int("training_mode", 0);
  if (training_mode != 0 && training_mode != 1)
    return ctx.error("attribute 'training_mode' is " + std::to_string(training_mode) + ", expected 0 or 1");
  if (training_mode == 0 && ctx.num_outputs() > 1)
    return unimplemented(ctx.node().describe() + ": the running statistics outputs exist only with "
                         "training_mode=1, and this node has training_mode=0");
  KILN_RETURN_IF_ERROR(require_floating(ctx, 0, "X"));
  KILN_RETURN_IF_ERROR(require_min_rank(ctx, 0, kMinChannelRank, "X"));
  const char* names[] = {"X", "scale", "B", "input_mean", "input_var"};
  const Dim channels = channel_dim(ctx);
  for (size_t i = 1; i < 5; ++i) {
    KILN_RETURN_IF_ERROR(require_floating(ctx, i, names[i]));
    KILN_RETURN_IF_ERROR(require_per_channel(ctx, i, channels, names[i]));
  }
  if (ctx.num_outputs() > kRunningMeanOutput)
    ctx.set_output(kRunningMeanOutput, ctx.input_type(kInputMean).dtype, SymShape{channels});
  if (ctx.num_outputs() > kRunningVarOutput)
    ctx.set_output(kRunningVarOutput, ctx.input_type(kInputVar).dtype, SymShape{channels});
  return infer_same_as_input(ctx, 0);
}

Status infer_instance_norm(InferContext& ctx) {
  KILN_RETURN_IF_ERROR(require_floating(ctx, 0, "input"));
  KILN_RETURN_IF_ERROR(require_min_rank(ctx, 0, kMinChannelRank + 1, "input"));
  const Dim channels = channel_dim(ctx);
  KILN_RETURN_IF_ERROR(require_floating(ctx, 1, "scale"));
  KILN_RETURN_IF_ERROR(require_per_channel(ctx, 1, channels, "scale"));
  KILN_RETURN_IF_ERROR(require_floating(ctx, 2, "B"));
  KILN_RETURN_IF_ERROR(require_per_channel(ctx, 2, channels, "B"));
  return infer_same_as_input(ctx, 0);
}

Status infer_layer_norm(InferContext& ctx) {
  KILN_RETURN_IF_ERROR(require_floating(ctx, 0, "X"));
  KILN_RETURN_IF_ERROR(require_floating(ctx, 1, "Scale"));
  if (ctx.has_input(2)) KILN_RETURN_IF_ERROR(require_floating(ctx, 2, "B"));
  auto stash = layer_norm_stash_dtype(ctx.attrs());
  if (!stash.ok()) return ctx.error(stash.status().message());
  const SymShape* x = ctx.input_shape(0);
  std::optional<SymShape> stats;
  if (x) {
    auto axis = layer_norm_first_axis(ctx.attrs(), x->size());
    if (!axis.ok()) return ctx.error(axis.status().message());
    stats = *x;
    for (size_t d = *axis; d < x->size(); ++d) (*stats)[d] = Dim::known(1);
  }
  ctx.set_output(0, ctx.input_type(0));
  ctx.set_output(1, *stash, stats);
  ctx.set_output(2, *stash, stats);
  return {};
}

Status infer_lp_norm(InferContext& ctx) {
  KILN_RETURN_IF_ERROR(require_floating(ctx, 0, "input"));
  const int64_t p = ctx.attrs().get_int("p", 2);
  if (p != 1 && p != 2) return ctx.error("attribute 'p' is " + std::to_string(p) + ", expected 1 or 2");
  const SymShape* x = ctx.input_shape(0);
  const int64_t axis = ctx.attrs().get_int("axis", -1);
  if (x) {
    const auto rank = static_cast<int64_t>(x->size());
    if (axis < -rank || axis >= rank) return ctx.error("attribute 'axis' is out of range for rank " + std::to_string(rank));
  }
  return infer_same_as_input(ctx, 0);
}

Status infer_lrn(InferContext& ctx) {
  KILN_RETURN_IF_ERROR(require_floating(ctx, 0, "X"));
  KILN_RETURN_IF_ERROR(require_min_rank(ctx, 0, kMinChannelRank, "X"));
  auto size = ctx.attrs().require_int("size");
  if (!size.ok()) return ctx.error(size.status().message());
  if (*size < 1) return ctx.error("attribute 'size' is " + std::to_string(*size) + ", expected >= 1");
  return infer_same_as_input(ctx, 0);
}

Status infer_mvn(InferContext& ctx) {
  KILN_RETURN_IF_ERROR(require_floating(ctx, 0, "X"));
  const SymShape* x = ctx.input_shape(0);
  if (x && ctx.attrs().has("axes")) {
    const auto rank = static_cast<int64_t>(x->size());
    for (int64_t a : ctx.attrs().get_ints("axes"))
      if (a < -rank || a >= rank) return ctx.error("attribute 'axes' has entry " + std::to_string(a) + ", out of range");
  }
  return infer_same_as_input(ctx, 0);
}

double batch_norm_flops(const Node&, const std::vector<Shape>& inputs, const std::vector<Shape>&) {
  return inputs.empty() ? 0.0 : kBatchNormFlopsPerElement * known_numel(inputs[0]);
}

double statistics_flops(const Node&, const std::vector<Shape>& inputs, const std::vector<Shape>&) {
  return inputs.empty() ? 0.0 : kStatisticsFlopsPerElement * known_numel(inputs[0]);
}

double lrn_flops(const Node& node, const std::vector<Shape>& inputs, const std::vector<Shape>&) {
  const auto size = static_cast<double>(node.attrs().get_int("size", 1));
  return inputs.empty() ? 0.0 : kLrnFlopsPerWindowElement * size * known_numel(inputs[0]);
}

}  // namespace

void register_norm_schemas(SchemaRegistry& registry) {
  registry.add({OpKind::BatchNormalization, 5, 5, 1, 3, infer_batch_norm, batch_norm_flops});
  registry.add({OpKind::InstanceNormalization, 3, 3, 1, 1, infer_instance_norm, statistics_flops});
  registry.add({OpKind::LayerNormalization, 2, 3, 1, 3, infer_layer_norm, statistics_flops});
  registry.add({OpKind::LpNormalization, 1, 1, 1, 1, infer_lp_norm, statistics_flops});
  registry.add({OpKind::LRN, 1, 1, 1, 1, infer_lrn, lrn_flops});
  registry.add({OpKind::MeanVarianceNormalization, 1, 1, 1, 1, infer_mvn, statistics_flops});
}

}  // namespace kiln::ir::nn
