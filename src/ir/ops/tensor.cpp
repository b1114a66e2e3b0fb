#include "ir/ops/families.h"
#include "ir/ops/tensor_schemas.h"

#include "core/checked_math.h"

namespace kiln::ir {
namespace tensor_schemas {

double zero_flops(const Node& /*node*/, const std::vector<Shape>& /*inputs*/, const std::vector<Shape>& /*outputs*/) {
  return 0.0;
}

Result<size_t> resolve_axis(const InferContext& ctx, int64_t axis, size_t rank, const std::string& what) {
  const auto r = static_cast<int64_t>(rank);
  if (axis < -r || axis >= r)
    return ctx.error(what + " " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
  return static_cast<size_t>(axis < 0 ? axis + r : axis);
}

Result<Dim> product_dim(const InferContext& ctx, const SymShape& shape, size_t begin, size_t end) {
  for (size_t d = begin; d < end; ++d)
    if (shape[d].is_known() && shape[d].value == 0) return Dim::known(0);
  int64_t known = 1;
  const Dim* unknown = nullptr;
  int unknown_count = 0;
  for (size_t d = begin; d < end; ++d) {
    if (shape[d].is_known()) {
      auto product = checked_mul(known, shape[d].value);
      if (!product)
        return ctx.error("the element count of dims " + std::to_string(begin) + ".." + std::to_string(end) + " of " +
                         sym_shape_to_string(shape) + " overflows int64");
      known = *product;
    } else {
      unknown = &shape[d];
      ++unknown_count;
    }
  }
  if (unknown_count == 0) return Dim::known(known);
  if (unknown_count == 1 && known == 1) return *unknown;
  return Dim{};
}

OptionalInts optional_constant_ints(const InferContext& ctx, size_t i) {
  OptionalInts out;
  out.present = i < ctx.num_inputs() && ctx.has_input(i);
  if (!out.present) return out;
  if (auto values = constant_ints(ctx, i)) {
    out.constant = true;
    out.values = std::move(*values);
  }
  return out;
}

std::optional<int64_t> known_length(const InferContext& ctx, size_t i) {
  if (!ctx.has_input(i)) return std::nullopt;
  const SymShape* s = ctx.input_shape(i);
  if (!s) return std::nullopt;
  if (s->empty()) return 1;
  if (s->size() == 1 && (*s)[0].is_known()) return (*s)[0].value;
  return std::nullopt;
}

}  // namespace tensor_schemas

void register_tensor_schemas(SchemaRegistry& registry) {
  tensor_schemas::register_shape_schemas(registry);
  tensor_schemas::register_layout_schemas(registry);
  tensor_schemas::register_index_schemas(registry);
  tensor_schemas::register_create_schemas(registry);
}

}  // namespace kiln::ir
