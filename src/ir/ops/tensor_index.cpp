// Schemas of the index-driven ops: Gather, GatherElements, GatherND, ScatterElements, ScatterND,
// Compress and NonZero.
#include <algorithm>

#include "ir/ops/tensor_schemas.h"

namespace kiln::ir::tensor_schemas {
namespace {

Status check_index_dtype(const InferContext& ctx, size_t i, const char* name) {
  const DType d = ctx.input_dtype(i);
  if (d != DType::kInt32 && d != DType::kInt64)
    return ctx.error(std::string("input '") + name + "' must be int32 or int64, got " + std::string(dtype_name(d)));
  return {};
}

Status infer_gather(InferContext& ctx) {
  KILN_RETURN_IF_ERROR(check_index_dtype(ctx, 1, "indices"));
  const DType dtype = ctx.input_dtype(0);
  const SymShape* data = ctx.input_shape(0);
  const SymShape* indices = ctx.input_shape(1);
  if (!data || !indices) {
    ctx.set_output(0, dtype, std::nullopt);
    return {};
  }
  KILN_ASSIGN_OR_RETURN(size_t axis, resolve_axis(ctx, ctx.attrs().get_int("axis", 0), data->size(), "axis"));
  SymShape out(data->begin(), data->begin() + static_cast<std::ptrdiff_t>(axis));
  out.insert(out.end(), indices->begin(), indices->end());
  out.insert(out.end(), data->begin() + static_cast<std::ptrdiff_t>(axis) + 1, data->end());
  ctx.set_output(0, dtype, std::move(out));
  return {};
}

Status infer_gather_elements(InferContext& ctx) {
  KILN_RETURN_IF_ERROR(check_index_dtype(ctx, 1, "indices"));
  const SymShape* data = ctx.input_shape(0);
  const SymShape* indices = ctx.input_shape(1);
  if (data && indices) {
    if (data->size() != indices->size())
      return ctx.error("indices rank " + std::to_string(indices->size()) + " differs from data rank " +
                       std::to_string(data->size()));
    KILN_RETURN_IF_ERROR(resolve_axis(ctx, ctx.attrs().get_int("axis", 0), data->size(), "axis").status());
  }
  ctx.set_output(0, ctx.input_dtype(0), indices ? std::optional<SymShape>(*indices) : std::nullopt);
  return {};
}

Status infer_gather_nd(InferContext& ctx) {
  KILN_RETURN_IF_ERROR(check_index_dtype(ctx, 1, "indices"));
  const DType dtype = ctx.input_dtype(0);
  const SymShape* data = ctx.input_shape(0);
  const SymShape* indices = ctx.input_shape(1);
  if (!data || !indices || indices->empty() || !indices->back().is_known()) {
    ctx.set_output(0, dtype, std::nullopt);
    return {};
  }
  const int64_t batch_dims = ctx.attrs().get_int("batch_dims", 0);
  const auto r = static_cast<int64_t>(data->size()), q = static_cast<int64_t>(indices->size());
  if (batch_dims < 0 || batch_dims >= std::min(r, q))
    return ctx.error("batch_dims " + std::to_string(batch_dims) + " must be in [0, min(data rank, indices rank))");
  const int64_t m = indices->back().value;
  if (m < 1 || m > r - batch_dims)
    return ctx.error("the last indices dim (" + std::to_string(m) + ") must be in [1, " + std::to_string(r - batch_dims) + "]");
  SymShape out(indices->begin(), indices->end() - 1);
  for (size_t d = 0; d < static_cast<size_t>(batch_dims); ++d)
    if (!out[d].is_known() && (*data)[d].is_known()) out[d] = (*data)[d];
  out.insert(out.end(), data->begin() + static_cast<std::ptrdiff_t>(batch_dims + m), data->end());
  ctx.set_output(0, dtype, std::move(out));
  return {};
}

Status infer_scatter(InferContext& ctx) {
  KILN_RETURN_IF_ERROR(check_index_dtype(ctx, 1, "indices"));
  if (ctx.input_dtype(2) != ctx.input_dtype(0))
    return ctx.error("updates are " + std::string(dtype_name(ctx.input_dtype(2))) + " but data is " +
                     std::string(dtype_name(ctx.input_dtype(0))));
  const std::string reduction = ctx.attrs().get_string("reduction", "none");
  if (reduction != "none" && reduction != "add" && reduction != "mul")
    return ctx.error("reduction '" + reduction + "' is not one of none, add, mul");
  return infer_same_as_input(ctx, 0);
}

Status infer_compress(InferContext& ctx) {
  const DType dtype = ctx.input_dtype(0);
  if (ctx.input_dtype(1) != DType::kBool)
    return ctx.error("condition must be bool, got " + std::string(dtype_name(ctx.input_dtype(1))));
  Dim kept;
  if (const Tensor* condition = ctx.input_constant(1); condition != nullptr && condition->dtype() == DType::kBool)
    kept = Dim::known(std::count(condition->data<bool>(), condition->data<bool>() + condition->numel(), true));
  if (!ctx.attrs().has("axis")) {
    ctx.set_output(0, dtype, SymShape{kept});
    return {};
  }
  const SymShape* in = ctx.input_shape(0);
  if (!in) {
    ctx.set_output(0, dtype, std::nullopt);
    return {};
  }
  KILN_ASSIGN_OR_RETURN(size_t axis, resolve_axis(ctx, ctx.attrs().get_int("axis", 0), in->size(), "axis"));
  SymShape out = *in;
  out[axis] = kept;
  ctx.set_output(0, dtype, std::move(out));
  return {};
}

Status infer_non_zero(InferContext& ctx) {
  const SymShape* in = ctx.input_shape(0);
  ctx.set_output(0, DType::kInt64, SymShape{in ? Dim::known(static_cast<int64_t>(in->size())) : Dim{}, Dim{}});
  return {};
}

}  // namespace

void register_index_schemas(SchemaRegistry& registry) {
  registry.add({OpKind::Gather, 2, 2, 1, 1, with_required_inputs<2, infer_gather>, zero_flops});
  registry.add({OpKind::GatherElements, 2, 2, 1, 1, with_required_inputs<2, infer_gather_elements>, zero_flops});
  registry.add({OpKind::GatherND, 2, 2, 1, 1, with_required_inputs<2, infer_gather_nd>, zero_flops});
  registry.add({OpKind::ScatterElements, 3, 3, 1, 1, with_required_inputs<3, infer_scatter>, nullptr});
  registry.add({OpKind::ScatterND, 3, 3, 1, 1, with_required_inputs<3, infer_scatter>, nullptr});
  registry.add({OpKind::Compress, 2, 2, 1, 1, with_required_inputs<2, infer_compress>, zero_flops});
  registry.add({OpKind::NonZero, 1, 1, 1, 1, with_required_inputs<1, infer_non_zero>, zero_flops});
}

}  // namespace kiln::ir::tensor_schemas
