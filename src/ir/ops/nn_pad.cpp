// Pad schema: data, pads, optional constant_value, optional axes (the opset-18 input, accepted
// as an extension). Exact output dims need constant pads (and axes); otherwise the rank is kept.
#include "core/pad_params.h"
#include "ir/ops/nn_schemas.h"

namespace kiln::ir::nn {
namespace {

enum PadInput : size_t { kData = 0, kPads = 1, kConstantValue = 2, kAxes = 3 };

Status infer_pad(InferContext& ctx) {
  if (!ctx.has_input(kData)) return ctx.error("input 'data' is required");
  if (!ctx.has_input(kPads)) return ctx.error("input 'pads' is required");
  if (ctx.input_dtype(kPads) != DType::kInt64) return ctx.error("input 'pads' must be int64");
  if (ctx.has_input(kConstantValue) && ctx.input_dtype(kConstantValue) != ctx.input_dtype(kData))
    return ctx.error("input 'constant_value' must have the dtype of 'data'");
  auto mode = decode_pad_mode(ctx.attrs());
  if (!mode.ok()) return ctx.error(mode.status().message());
  const DType dtype = ctx.input_dtype(kData);
  const SymShape* x = ctx.input_shape(kData);
  if (!x) {
    ctx.set_output(0, dtype, std::nullopt);
    return {};
  }
  std::optional<std::vector<int64_t>> pads = constant_ints(ctx, kPads);
  std::optional<std::vector<int64_t>> axes;
  if (ctx.has_input(kAxes)) {
    axes = constant_ints(ctx, kAxes);
    if (!axes) pads.reset();  // which axes are padded is not known yet
  }
  if (!pads) {
    ctx.set_output(0, dtype, unknown_dims(x->size()));
    return {};
  }
  auto amounts = resolve_pad_amounts(*pads, axes ? &*axes : nullptr, x->size());
  if (!amounts.ok()) return ctx.error(amounts.status().message());
  SymShape out = *x;
  for (size_t d = 0; d < x->size(); ++d) {
    const int64_t begin = amounts->begin[d], end = amounts->end[d];
    if (!(*x)[d].is_known()) {
      if (begin != 0 || end != 0) out[d] = Dim{};
      continue;
    }
    auto size = padded_axis_size(*mode, d, (*x)[d].value, begin, end);
    if (!size.ok()) return ctx.error(size.status().message());
    out[d] = Dim::known(*size);
  }
  ctx.set_output(0, dtype, std::move(out));
  return {};
}

}  // namespace

void register_pad_schema(SchemaRegistry& registry) {
  registry.add({OpKind::Pad, 2, 4, 1, 1, infer_pad, nullptr});
}

}  // namespace kiln::ir::nn
