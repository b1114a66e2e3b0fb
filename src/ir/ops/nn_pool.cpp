// Pooling schemas: MaxPool (optional Indices output), AveragePool, LpPool and the Global*Pool ops.
#include "core/channels_last.h"
#include "core/conv_params.h"
#include "ir/ops/channels_last.h"
#include "ir/ops/nn_schemas.h"

namespace kiln::ir::nn {
namespace {

constexpr size_t kMinPoolRank = 3;  // N, C and at least one spatial axis
constexpr size_t kIndicesOutput = 1;

bool max_pool_dtype_ok(DType dtype) {
  return dtype_is_floating(dtype) || dtype == DType::kInt8 || dtype == DType::kUInt8;
}

Status infer_windowed_pool_nchw(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.error("input 'X' is required");
  const DType dtype = ctx.input_dtype(0);
  const bool is_max = ctx.node().op() == OpKind::MaxPool;
  if (is_max ? !max_pool_dtype_ok(dtype) : !dtype_is_floating(dtype))
    return ctx.error("input 'X' has unsupported dtype " + std::string(dtype_name(dtype)));
  KILN_RETURN_IF_ERROR(require_min_rank(ctx, 0, kMinPoolRank, "X"));
  if (is_max) {
    const int64_t storage_order = ctx.attrs().get_int("storage_order", 0);
    if (storage_order != 0 && storage_order != 1)
      return ctx.error("attribute 'storage_order' is " + std::to_string(storage_order) + ", expected 0 or 1");
  }
  const SymShape* x = ctx.input_shape(0);
  std::optional<SymShape> out;
  if (x) {
    auto kernel = decode_kernel_shape(ctx.attrs(), x->size() - 2, {});
    if (!kernel.ok()) return ctx.error(kernel.status().message());
    auto window = decode_window(ctx.attrs(), *kernel, /*allow_ceil_mode=*/true);
    if (!window.ok()) return ctx.error(window.status().message());
    out = *x;
    for (size_t a = 0; a + 2 < x->size(); ++a) {
      const Dim& in = (*x)[a + 2];
      if (!in.is_known()) {
        (*out)[a + 2] = Dim{};
        continue;
      }
      auto g = forward_axis(*window, a, in.value);
      if (!g.ok()) return ctx.error(g.status().message());
      (*out)[a + 2] = Dim::known(g->output);
    }
  }
  ctx.set_output(0, dtype, out);
  if (is_max) ctx.set_output(kIndicesOutput, DType::kInt64, out);
  return {};
}

Status infer_global_pool_nchw(InferContext& ctx) {
  KILN_RETURN_IF_ERROR(require_floating(ctx, 0, "X"));
  KILN_RETURN_IF_ERROR(require_min_rank(ctx, 0, kMinPoolRank, "X"));
  const SymShape* x = ctx.input_shape(0);
  std::optional<SymShape> out;
  if (x) {
    out = *x;
    for (size_t d = 2; d < out->size(); ++d) (*out)[d] = Dim::known(1);
  }
  ctx.set_output(0, ctx.input_dtype(0), out);
  return {};
}

// channels_last (MaxPool, AveragePool, GlobalAveragePool): X and Y are [N, H, W, C]. MaxPool's
// Indices are offsets into an NCHW tensor, so that output has no channels-last meaning.
Status infer_windowed_pool(InferContext& ctx) {
  if (ctx.node().op() == OpKind::MaxPool && ctx.node().output(kIndicesOutput) != nullptr &&
      ctx.attrs().get_int(kChannelsLastAttr, 0) != 0)
    return ctx.error(std::string("attribute '") + kChannelsLastAttr + "' cannot be combined with the Indices output");
  return infer_with_layout(ctx, infer_windowed_pool_nchw, {0});
}

Status infer_global_pool(InferContext& ctx) { return infer_with_layout(ctx, infer_global_pool_nchw, {0}); }

// One comparison or add per window element per output.
double windowed_pool_flops(const Node& node, const std::vector<Shape>&, const std::vector<Shape>& outputs) {
  double window = 1.0;
  for (int64_t k : node.attrs().get_ints("kernel_shape")) window *= static_cast<double>(k);
  return outputs.empty() ? 0.0 : known_numel(outputs[0]) * window;
}

double global_pool_flops(const Node&, const std::vector<Shape>& inputs, const std::vector<Shape>&) {
  return inputs.empty() ? 0.0 : known_numel(inputs[0]);
}

}  // namespace

void register_pool_schemas(SchemaRegistry& registry) {
  registry.add({OpKind::MaxPool, 1, 1, 1, 2, infer_windowed_pool, windowed_pool_flops});
  registry.add({OpKind::AveragePool, 1, 1, 1, 1, infer_windowed_pool, windowed_pool_flops});
  registry.add({OpKind::LpPool, 1, 1, 1, 1, infer_windowed_pool, windowed_pool_flops});
  registry.add({OpKind::GlobalMaxPool, 1, 1, 1, 1, infer_global_pool, global_pool_flops});
  registry.add({OpKind::GlobalAveragePool, 1, 1, 1, 1, infer_global_pool, global_pool_flops});
  registry.add({OpKind::GlobalLpPool, 1, 1, 1, 1, infer_global_pool, global_pool_flops});
}

}  // namespace kiln::ir::nn
