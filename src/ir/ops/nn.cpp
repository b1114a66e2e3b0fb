#include "ir/ops/families.h"
#include "ir/ops/nn_schemas.h"

namespace kiln::ir {
namespace nn {

Status require_floating(const InferContext& ctx, size_t i, const char* input_name) {
  if (!ctx.has_input(i)) return ctx.error(std::string("input '") + input_name + "' is required");
  if (!dtype_is_floating(ctx.input_dtype(i)))
    return ctx.error(std::string("input '") + input_name + "' must be floating point, got " +
                     std::string(dtype_name(ctx.input_dtype(i))));
  return {};
}

Status require_min_rank(const InferContext& ctx, size_t i, size_t min_rank, const char* input_name) {
  const SymShape* shape = ctx.input_shape(i);
  if (shape && shape->size() < min_rank)
    return ctx.error(std::string("input '") + input_name + "' has rank " + std::to_string(shape->size()) +
                     ", expected at least " + std::to_string(min_rank));
  return {};
}

Status require_per_channel(const InferContext& ctx, size_t i, const Dim& channels, const char* input_name) {
  if (!ctx.has_input(i)) return {};
  const SymShape* shape = ctx.input_shape(i);
  if (!shape) return {};
  if (shape->size() != 1)
    return ctx.error(std::string("input '") + input_name + "' must be 1-D, got " + sym_shape_to_string(*shape));
  if (channels.is_known() && (*shape)[0].is_known() && (*shape)[0].value != channels.value)
    return ctx.error(std::string("input '") + input_name + "' has " + std::to_string((*shape)[0].value) +
                     " elements, expected one per channel (" + std::to_string(channels.value) + ")");
  return {};
}

double known_numel(const Shape& shape) {
  double n = 1.0;
  for (int64_t d : shape.dims()) n *= d >= 0 ? static_cast<double>(d) : 1.0;
  return n;
}

}  // namespace nn

void register_nn_schemas(SchemaRegistry& registry) {
  nn::register_conv_schemas(registry);
  nn::register_pool_schemas(registry);
  nn::register_norm_schemas(registry);
  nn::register_pad_schema(registry);
}

}  // namespace kiln::ir
