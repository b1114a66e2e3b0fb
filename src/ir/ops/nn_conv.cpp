// Conv and ConvTranspose schemas: X [N, C, spatial...], W, optional bias B [M].
#include "core/checked_math.h"
#include "core/conv_params.h"
#include "ir/ops/nn_schemas.h"

namespace kiln::ir::nn {
namespace {

enum ConvInput : size_t { kX = 0, kW = 1, kB = 2 };
constexpr size_t kMinConvRank = 3;  // N, C and at least one spatial axis
constexpr double kFlopsPerMac = 2.0;

// Spatial dims of the weight when all of them are known; empty otherwise.
std::vector<int64_t> weight_kernel(const SymShape& w) {
  std::vector<int64_t> kernel;
  for (size_t d = 2; d < w.size(); ++d) {
    if (!w[d].is_known()) return {};
    kernel.push_back(w[d].value);
  }
  return kernel;
}

struct ConvShapes {
  const SymShape* x = nullptr;
  const SymShape* w = nullptr;
  size_t rank = 0;  // 0 when unknown
};

Result<ConvShapes> check_conv_shapes(const InferContext& ctx) {
  KILN_RETURN_IF_ERROR(require_floating(ctx, kX, "X"));
  KILN_RETURN_IF_ERROR(require_floating(ctx, kW, "W"));
  if (ctx.input_dtype(kW) != ctx.input_dtype(kX))
    return ctx.error("input 'W' has dtype " + std::string(dtype_name(ctx.input_dtype(kW))) + ", expected " +
                     std::string(dtype_name(ctx.input_dtype(kX))) + " like X");
  if (ctx.has_input(kB) && ctx.input_dtype(kB) != ctx.input_dtype(kX))
    return ctx.error("input 'B' must have the dtype of X");
  KILN_RETURN_IF_ERROR(require_min_rank(ctx, kX, kMinConvRank, "X"));
  KILN_RETURN_IF_ERROR(require_min_rank(ctx, kW, kMinConvRank, "W"));
  ConvShapes s{ctx.input_shape(kX), ctx.input_shape(kW), 0};
  if (s.x && s.w && s.x->size() != s.w->size())
    return ctx.error("input 'W' has rank " + std::to_string(s.w->size()) + ", expected the rank of X (" +
                     std::to_string(s.x->size()) + ")");
  s.rank = s.x ? s.x->size() : (s.w ? s.w->size() : 0);
  return s;
}

// Group count, validated (>= 1).
Result<int64_t> decode_group(const InferContext& ctx) {
  const int64_t group = ctx.attrs().get_int("group", 1);
  if (group < 1) return ctx.error("attribute 'group' is " + std::to_string(group) + ", expected >= 1");
  return group;
}

// The window for the spatial axes, or nullopt when the kernel size is not known yet.
Result<std::optional<WindowAttrs>> conv_window(const InferContext& ctx, const ConvShapes& s) {
  const size_t spatial = s.rank - 2;
  std::vector<int64_t> from_weight = s.w ? weight_kernel(*s.w) : std::vector<int64_t>{};
  if (from_weight.empty() && !ctx.attrs().has("kernel_shape")) return std::optional<WindowAttrs>();
  auto kernel = decode_kernel_shape(ctx.attrs(), spatial, from_weight);
  if (!kernel.ok()) return ctx.error(kernel.status().message());
  auto window = decode_window(ctx.attrs(), *kernel, /*allow_ceil_mode=*/false);
  if (!window.ok()) return ctx.error(window.status().message());
  return std::optional<WindowAttrs>(std::move(*window));
}

}  // namespace

Status infer_conv(InferContext& ctx) {
  KILN_ASSIGN_OR_RETURN(ConvShapes s, check_conv_shapes(ctx));
  KILN_ASSIGN_OR_RETURN(int64_t group, decode_group(ctx));
  const DType dtype = ctx.input_dtype(kX);
  if (s.rank == 0) {
    ctx.set_output(0, dtype, std::nullopt);
    return {};
  }
  Dim out_channels = s.w ? (*s.w)[0] : Dim{};
  if (s.x && s.w && (*s.x)[1].is_known() && (*s.w)[1].is_known() && checked_mul((*s.w)[1].value, group) != (*s.x)[1].value)
    return ctx.error("X has " + std::to_string((*s.x)[1].value) + " channels but W expects " +
                     std::to_string((*s.w)[1].value) + " per group x " + std::to_string(group) + " groups");
  if (out_channels.is_known() && out_channels.value % group != 0)
    return ctx.error("W has " + std::to_string(out_channels.value) + " output channels, not divisible by group " +
                     std::to_string(group));
  KILN_RETURN_IF_ERROR(require_per_channel(ctx, kB, out_channels, "B"));

  SymShape out = unknown_dims(s.rank);
  if (s.x) out[0] = (*s.x)[0];
  out[1] = out_channels;
  KILN_ASSIGN_OR_RETURN(std::optional<WindowAttrs> window, conv_window(ctx, s));
  if (window && s.x) {
    for (size_t a = 0; a < s.rank - 2; ++a) {
      const Dim& in = (*s.x)[a + 2];
      if (!in.is_known()) continue;
      auto g = forward_axis(*window, a, in.value);
      if (!g.ok()) return ctx.error(g.status().message());
      out[a + 2] = Dim::known(g->output);
    }
  }
  ctx.set_output(0, dtype, std::move(out));
  return {};
}

namespace {

Status infer_conv_transpose(InferContext& ctx) {
  KILN_ASSIGN_OR_RETURN(ConvShapes s, check_conv_shapes(ctx));
  KILN_ASSIGN_OR_RETURN(int64_t group, decode_group(ctx));
  const DType dtype = ctx.input_dtype(kX);
  if (s.rank == 0) {
    ctx.set_output(0, dtype, std::nullopt);
    return {};
  }
  // W is [C, M / group, k...]: the input channels first.
  if (s.x && s.w && (*s.x)[1].is_known() && (*s.w)[0].is_known() && (*s.x)[1].value != (*s.w)[0].value)
    return ctx.error("X has " + std::to_string((*s.x)[1].value) + " channels but W has " +
                     std::to_string((*s.w)[0].value) + " input channels");
  if (s.w && (*s.w)[0].is_known() && (*s.w)[0].value % group != 0)
    return ctx.error("W has " + std::to_string((*s.w)[0].value) + " input channels, not divisible by group " +
                     std::to_string(group));
  Dim out_channels;
  if (s.w && (*s.w)[1].is_known()) {
    auto channels = checked_mul((*s.w)[1].value, group);
    if (!channels)
      return ctx.error("W has " + std::to_string((*s.w)[1].value) + " output channels per group; times group " +
                       std::to_string(group) + " overflows int64");
    out_channels = Dim::known(*channels);
  }
  KILN_RETURN_IF_ERROR(require_per_channel(ctx, kB, out_channels, "B"));

  SymShape out = unknown_dims(s.rank);
  if (s.x) out[0] = (*s.x)[0];
  out[1] = out_channels;
  KILN_ASSIGN_OR_RETURN(std::optional<WindowAttrs> window, conv_window(ctx, s));
  if (window) {
    auto transpose = decode_transpose(ctx.attrs(), s.rank - 2);
    if (!transpose.ok()) return ctx.error(transpose.status().message());
    for (size_t a = 0; a < s.rank - 2; ++a) {
      if (!transpose->output_shape.empty() && window->auto_pad != AutoPad::kValid) {
        out[a + 2] = Dim::known(transpose->output_shape[a]);
      }
      if (!s.x || !(*s.x)[a + 2].is_known()) continue;
      auto g = transpose_axis(*window, *transpose, a, (*s.x)[a + 2].value);
      if (!g.ok()) return ctx.error(g.status().message());
      out[a + 2] = Dim::known(g->output);
    }
  }
  ctx.set_output(0, dtype, std::move(out));
  return {};
}

}  // namespace

// MACs = output elements x (input channels per group x kernel volume).
double conv_flops(const Node&, const std::vector<Shape>& inputs, const std::vector<Shape>& outputs) {
  if (inputs.size() < 2 || outputs.empty()) return 0.0;
  const Shape& w = inputs[kW];
  double per_output = 1.0;
  for (size_t d = 1; d < w.rank(); ++d) per_output *= w[d] >= 0 ? static_cast<double>(w[d]) : 1.0;
  return kFlopsPerMac * known_numel(outputs[0]) * per_output;
}

namespace {

// Every input element is scattered through M / group output channels x kernel volume.
double conv_transpose_flops(const Node&, const std::vector<Shape>& inputs, const std::vector<Shape>&) {
  if (inputs.size() < 2) return 0.0;
  const Shape& w = inputs[kW];
  double per_input = 1.0;
  for (size_t d = 1; d < w.rank(); ++d) per_input *= w[d] >= 0 ? static_cast<double>(w[d]) : 1.0;
  return kFlopsPerMac * known_numel(inputs[kX]) * per_input;
}

}  // namespace

void register_conv_schemas(SchemaRegistry& registry) {
  registry.add({OpKind::Conv, 2, 3, 1, 1, infer_conv, conv_flops});
  registry.add({OpKind::ConvTranspose, 2, 3, 1, 1, infer_conv_transpose, conv_transpose_flops});
}

}  // namespace kiln::ir::nn
