// Schemas of the ops that rearrange elements: Transpose, Concat, Split, Slice, Expand, Tile.
#include <algorithm>

#include "core/checked_math.h"
#include "ir/ops/tensor_schemas.h"

namespace kiln::ir::tensor_schemas {
namespace {

Status infer_transpose(InferContext& ctx) {
  const DType dtype = ctx.input_dtype(0);
  const SymShape* in = ctx.input_shape(0);
  const bool has_perm = ctx.attrs().has("perm");
  std::vector<int64_t> perm = ctx.attrs().get_ints("perm");
  if (!in) {
    ctx.set_output(0, dtype, has_perm ? std::optional<SymShape>(unknown_dims(perm.size())) : std::nullopt);
    return {};
  }
  const size_t rank = in->size();
  if (!has_perm)
    for (size_t i = 0; i < rank; ++i) perm.push_back(static_cast<int64_t>(rank - 1 - i));
  if (perm.size() != rank) return ctx.error("perm has " + std::to_string(perm.size()) + " entries for rank " + std::to_string(rank));
  std::vector<bool> seen(rank, false);
  SymShape out;
  for (int64_t p : perm) {
    if (p < 0 || p >= static_cast<int64_t>(rank) || seen[static_cast<size_t>(p)])
      return ctx.error("perm is not a permutation of 0.." + std::to_string(rank) + "-1");
    seen[static_cast<size_t>(p)] = true;
    out.push_back((*in)[static_cast<size_t>(p)]);
  }
  ctx.set_output(0, dtype, std::move(out));
  return {};
}

// Two facts about one dim: the known one wins; a contradiction is reported by the caller.
Dim merge_dims(const Dim& a, const Dim& b) {
  if (a.is_known()) return a;
  if (b.is_known()) return b;
  return a == b ? a : Dim{};
}

Status infer_concat(InferContext& ctx) {
  if (ctx.num_inputs() == 0) return ctx.error("needs at least one input");
  KILN_ASSIGN_OR_RETURN(int64_t axis_attr, ctx.attrs().require_int("axis"));
  const DType dtype = ctx.input_dtype(0);
  const SymShape* first = nullptr;
  for (size_t k = 0; k < ctx.num_inputs(); ++k) {
    if (!ctx.has_input(k)) return ctx.error("input " + std::to_string(k) + " is missing");
    if (ctx.input_dtype(k) != dtype)
      return ctx.error("input " + std::to_string(k) + " is " + std::string(dtype_name(ctx.input_dtype(k))) + ", input 0 is " +
                       std::string(dtype_name(dtype)));
    if (!first) first = ctx.input_shape(k);
  }
  if (!first) {
    ctx.set_output(0, dtype, std::nullopt);
    return {};
  }
  KILN_ASSIGN_OR_RETURN(size_t axis, resolve_axis(ctx, axis_attr, first->size(), "axis"));
  SymShape out = *first;
  int64_t axis_total = 0;
  bool axis_known = true;
  for (size_t k = 0; k < ctx.num_inputs(); ++k) {
    const SymShape* s = ctx.input_shape(k);
    if (!s) {
      axis_known = false;
      continue;
    }
    if (s->size() != out.size())
      return ctx.error("input " + std::to_string(k) + " has rank " + std::to_string(s->size()) + ", expected " +
                       std::to_string(out.size()));
    for (size_t d = 0; d < out.size(); ++d) {
      if (d == axis) continue;
      if (out[d].is_known() && (*s)[d].is_known() && out[d].value != (*s)[d].value)
        return ctx.error("input " + std::to_string(k) + " " + sym_shape_to_string(*s) + " does not match " +
                         sym_shape_to_string(out) + " outside axis " + std::to_string(axis));
      out[d] = merge_dims(out[d], (*s)[d]);
    }
    if (!(*s)[axis].is_known()) {
      axis_known = false;
    } else if (auto total = checked_add(axis_total, (*s)[axis].value)) {
      axis_total = *total;
    } else {
      return ctx.error("the concatenated size of axis " + std::to_string(axis) + " overflows int64 at input " +
                       std::to_string(k) + " " + sym_shape_to_string(*s));
    }
  }
  out[axis] = axis_known ? Dim::known(axis_total) : (ctx.num_inputs() == 1 ? (*first)[axis] : Dim{});
  ctx.set_output(0, dtype, std::move(out));
  return {};
}

Status infer_split(InferContext& ctx) {
  const DType dtype = ctx.input_dtype(0);
  const SymShape* in = ctx.input_shape(0);
  const size_t parts = ctx.num_outputs();
  if (!in) {
    for (size_t k = 0; k < parts; ++k) ctx.set_output(k, dtype, std::nullopt);
    return {};
  }
  KILN_ASSIGN_OR_RETURN(size_t axis, resolve_axis(ctx, ctx.attrs().get_int("axis", 0), in->size(), "axis"));
  const Dim& dim = (*in)[axis];
  OptionalInts split = optional_constant_ints(ctx, 1);
  std::vector<Dim> sizes(parts);
  if (split.constant) {
    int64_t total = 0;
    for (int64_t s : split.values) {
      if (s < 0) return ctx.error("split sizes must be non-negative, got " + std::to_string(s));
      if (__builtin_add_overflow(total, s, &total)) return ctx.error("split sizes overflow int64");
    }
    if (split.values.size() != parts)
      return ctx.error("split has " + std::to_string(split.values.size()) + " sizes for " + std::to_string(parts) + " outputs");
    if (dim.is_known() && total != dim.value)
      return ctx.error("split sizes sum to " + std::to_string(total) + " but dim " + std::to_string(axis) + " is " +
                       std::to_string(dim.value));
    for (size_t k = 0; k < parts; ++k) sizes[k] = Dim::known(split.values[k]);
  } else if (!split.present && dim.is_known()) {
    if (dim.value % static_cast<int64_t>(parts) != 0)
      return ctx.error("dim " + std::to_string(axis) + " (" + std::to_string(dim.value) + ") cannot be split into " +
                       std::to_string(parts) + " equal parts");
    for (Dim& s : sizes) s = Dim::known(dim.value / static_cast<int64_t>(parts));
  } else if (!split.present && parts == 1) {
    sizes[0] = dim;
  }
  for (size_t k = 0; k < parts; ++k) {
    SymShape out = *in;
    out[axis] = sizes[k];
    ctx.set_output(k, dtype, std::move(out));
  }
  return {};
}

// The length of one sliced axis of known size (ONNX clamping rules).
Result<int64_t> sliced_length(const InferContext& ctx, int64_t dim, int64_t start, int64_t end, int64_t step) {
  if (step == 0) return ctx.error("slice step is 0");
  int64_t b = start < 0 ? start + dim : start;
  int64_t e = end < 0 ? end + dim : end;
  b = step > 0 ? std::clamp<int64_t>(b, 0, dim) : std::clamp<int64_t>(b, 0, dim - 1);
  e = step > 0 ? std::clamp<int64_t>(e, 0, dim) : std::clamp<int64_t>(e, -1, dim - 1);
  const int64_t span = step > 0 ? e - b : b - e;
  const int64_t magnitude = step > 0 ? step : (step == INT64_MIN ? INT64_MAX : -step);
  return span <= 0 ? 0 : (span - 1) / magnitude + 1;
}

Status infer_slice(InferContext& ctx) {
  const DType dtype = ctx.input_dtype(0);
  const SymShape* in = ctx.input_shape(0);
  if (!in) {
    ctx.set_output(0, dtype, std::nullopt);
    return {};
  }
  auto starts = constant_ints(ctx, 1);
  auto ends = constant_ints(ctx, 2);
  OptionalInts axes = optional_constant_ints(ctx, 3);
  OptionalInts steps = optional_constant_ints(ctx, 4);
  if (!starts || !ends || (axes.present && !axes.constant) || (steps.present && !steps.constant)) {
    ctx.set_output(0, dtype, unknown_dims(in->size()));
    return {};
  }
  const size_t n = starts->size();
  if (!axes.present)
    for (size_t i = 0; i < n; ++i) axes.values.push_back(static_cast<int64_t>(i));
  if (!steps.present) steps.values.assign(n, 1);
  if (ends->size() != n || axes.values.size() != n || steps.values.size() != n)
    return ctx.error("starts, ends, axes and steps must have the same length");
  SymShape out = *in;
  std::vector<bool> sliced(in->size(), false);
  for (size_t i = 0; i < n; ++i) {
    KILN_ASSIGN_OR_RETURN(size_t axis, resolve_axis(ctx, axes.values[i], in->size(), "axis"));
    if (sliced[axis]) return ctx.error("axis " + std::to_string(axis) + " is sliced twice");
    sliced[axis] = true;
    const int64_t start = (*starts)[i], end = (*ends)[i], step = steps.values[i];
    if (step == 0) return ctx.error("slice step for axis " + std::to_string(axis) + " is 0");
    if ((*in)[axis].is_known()) {
      KILN_ASSIGN_OR_RETURN(int64_t length, sliced_length(ctx, (*in)[axis].value, start, end, step));
      out[axis] = Dim::known(length);
    } else {
      const bool whole = step == 1 && start == 0 && end == INT64_MAX;
      if (!whole) out[axis] = Dim{};
    }
  }
  ctx.set_output(0, dtype, std::move(out));
  return {};
}

Status infer_expand(InferContext& ctx) {
  const DType dtype = ctx.input_dtype(0);
  const SymShape* in = ctx.input_shape(0);
  auto requested = constant_ints(ctx, 1);
  if (!in || !requested) {
    std::optional<int64_t> n = known_length(ctx, 1);
    if (in && n) ctx.set_output(0, dtype, unknown_dims(std::max<size_t>(in->size(), static_cast<size_t>(*n))));
    else ctx.set_output(0, dtype, std::nullopt);
    return {};
  }
  const size_t rank = std::max(in->size(), requested->size());
  SymShape out(rank);
  for (size_t d = 0; d < rank; ++d) {
    const Dim a = d < rank - in->size() ? Dim::known(1) : (*in)[d - (rank - in->size())];
    const int64_t b = d < rank - requested->size() ? 1 : (*requested)[d - (rank - requested->size())];
    if (b < 0) return ctx.error("shape has negative dim " + std::to_string(b));
    if (b == 1) out[d] = a;
    else if (!a.is_known() || a.value == 1 || a.value == b) out[d] = Dim::known(b);
    else return ctx.error("input dim " + std::to_string(a.value) + " cannot expand to " + std::to_string(b));
  }
  KILN_RETURN_IF_ERROR(check_element_count(ctx, out));
  ctx.set_output(0, dtype, std::move(out));
  return {};
}

Status infer_tile(InferContext& ctx) {
  const DType dtype = ctx.input_dtype(0);
  const SymShape* in = ctx.input_shape(0);
  if (!in) {
    ctx.set_output(0, dtype, std::nullopt);
    return {};
  }
  auto repeats = constant_ints(ctx, 1);
  if (!repeats) {
    ctx.set_output(0, dtype, unknown_dims(in->size()));
    return {};
  }
  if (repeats->size() != in->size())
    return ctx.error("repeats has " + std::to_string(repeats->size()) + " entries for rank " + std::to_string(in->size()));
  SymShape out(in->size());
  for (size_t d = 0; d < in->size(); ++d) {
    const int64_t r = (*repeats)[d];
    if (r < 0) return ctx.error("repeats has negative entry " + std::to_string(r));
    const Dim& a = (*in)[d];
    if (r == 1) out[d] = a;
    else if (r == 0 || (a.is_known() && a.value == 0)) out[d] = Dim::known(0);
    else if (a.is_known() && a.value <= INT64_MAX / r) out[d] = Dim::known(a.value * r);
  }
  KILN_RETURN_IF_ERROR(check_element_count(ctx, out));
  ctx.set_output(0, dtype, std::move(out));
  return {};
}

}  // namespace

void register_layout_schemas(SchemaRegistry& registry) {
  registry.add({OpKind::Transpose, 1, 1, 1, 1, with_required_inputs<1, infer_transpose>, zero_flops});
  registry.add({OpKind::Concat, 1, kVariadic, 1, 1, with_required_inputs<1, infer_concat>, zero_flops});
  registry.add({OpKind::Split, 1, 2, 1, INT32_MAX, with_required_inputs<1, infer_split>, zero_flops});
  registry.add({OpKind::Slice, 3, 5, 1, 1, with_required_inputs<3, infer_slice>, zero_flops});
  registry.add({OpKind::Expand, 2, 2, 1, 1, with_required_inputs<2, infer_expand>, zero_flops});
  registry.add({OpKind::Tile, 2, 2, 1, 1, with_required_inputs<2, infer_tile>, zero_flops});
}

}  // namespace kiln::ir::tensor_schemas
