#include "ir/ops/infer_util.h"

#include <algorithm>

#include "core/checked_math.h"
#include "core/tensor_values.h"

namespace kiln::ir {

Status infer_same_as_input(InferContext& ctx, size_t i) {
  if (!ctx.has_input(i)) return ctx.error("input " + std::to_string(i) + " is required");
  ctx.set_output(0, ctx.input_type(i));
  return {};
}

Result<std::optional<SymShape>> broadcast_inputs(const InferContext& ctx, size_t first, size_t last) {
  SymShape out;
  last = std::min(last, ctx.num_inputs());
  for (size_t i = first; i < last; ++i) {
    if (!ctx.has_input(i)) continue;
    const SymShape* s = ctx.input_shape(i);
    if (!s) return std::optional<SymShape>();
    size_t rank = std::max(out.size(), s->size());
    SymShape merged(rank);
    for (size_t d = 0; d < rank; ++d) {
      Dim a = d < rank - out.size() ? Dim::known(1) : out[d - (rank - out.size())];
      Dim b = d < rank - s->size() ? Dim::known(1) : (*s)[d - (rank - s->size())];
      if (a == b) merged[d] = a;
      else if (a.is_known() && a.value == 1) merged[d] = b;
      else if (b.is_known() && b.value == 1) merged[d] = a;
      else if (a.is_known() && b.is_known())
        return ctx.error("inputs cannot be broadcast together: dimension " + std::to_string(a.value) + " vs " +
                         std::to_string(b.value));
      else if (a.is_known()) merged[d] = a;   // a symbol must equal the known size (or be 1)
      else if (b.is_known()) merged[d] = b;
      else merged[d] = Dim{};                 // two different symbols: unknown
    }
    out = std::move(merged);
  }
  return std::optional<SymShape>(std::move(out));
}

std::optional<std::vector<int64_t>> constant_ints(const InferContext& ctx, size_t i) {
  const Tensor* t = ctx.input_constant(i);
  if (!t) return std::nullopt;
  auto values = integer_values(*t, "constant input");
  if (!values.ok()) return std::nullopt;
  return std::move(values).value();
}

SymShape unknown_dims(size_t rank) { return SymShape(rank); }

Status check_element_count(const InferContext& ctx, const SymShape& shape) {
  std::vector<int64_t> known;
  for (const Dim& d : shape)
    if (d.is_known()) known.push_back(d.value);
  if (!checked_product(known))
    return ctx.error("output shape " + sym_shape_to_string(shape) + " has more elements than int64 can count (overflow)");
  return {};
}

}  // namespace kiln::ir
