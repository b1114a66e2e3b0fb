// Schemas of the ops that only change a shape (Reshape, Flatten, Squeeze, Unsqueeze) or report it
// (Shape, Size).
#include <algorithm>
#include <map>

#include "core/checked_math.h"
#include "ir/ops/tensor_schemas.h"

namespace kiln::ir::tensor_schemas {
namespace {

// `product * dim`, or an error naming `what` (shown as `shape`) when it overflows int64.
Result<int64_t> checked_dim_product(const InferContext& ctx, int64_t product, int64_t dim, const std::string& what,
                                    const SymShape& shape) {
  if (auto out = checked_mul(product, dim)) return *out;
  return ctx.error("the element count of " + what + " " + sym_shape_to_string(shape) + " overflows int64");
}

// Solves Reshape's -1 dim symbolically: the input's product divided by the other output dims.
// Works when both sides' unknown dims are named and cancel, e.g. [B,S,768] -> [B,S,12,-1].
// An error when a side's known dims multiply past int64.
Result<Dim> solve_inferred_dim(const InferContext& ctx, const SymShape& in, const SymShape& out, size_t inferred) {
  int64_t in_known = 1, out_known = 1;
  std::map<std::string, int> symbols;  // input symbols minus output symbols
  for (const Dim& d : in) {
    if (d.is_known()) {
      KILN_ASSIGN_OR_RETURN(in_known, checked_dim_product(ctx, in_known, d.value, "input", in));
    } else if (d.symbol.empty()) return Dim{};
    else ++symbols[d.symbol];
  }
  for (size_t i = 0; i < out.size(); ++i) {
    if (i == inferred) continue;
    const Dim& d = out[i];
    if (d.is_known()) {
      KILN_ASSIGN_OR_RETURN(out_known, checked_dim_product(ctx, out_known, d.value, "requested shape", out));
    } else if (d.symbol.empty()) return Dim{};
    else --symbols[d.symbol];
  }
  std::vector<std::string> left;
  for (const auto& [name, count] : symbols) {
    if (count < 0) return Dim{};
    for (int c = 0; c < count; ++c) left.push_back(name);
  }
  if (out_known == 0 || in_known % out_known != 0) return Dim{};
  const int64_t ratio = in_known / out_known;
  if (left.empty()) return Dim::known(ratio);
  if (left.size() == 1 && ratio == 1) return Dim::symbolic(left[0]);
  return Dim{};
}

Status infer_reshape(InferContext& ctx) {
  const DType dtype = ctx.input_dtype(0);
  auto requested = constant_ints(ctx, 1);
  if (!requested) {
    std::optional<int64_t> rank = known_length(ctx, 1);
    ctx.set_output(0, dtype, rank ? std::optional<SymShape>(unknown_dims(static_cast<size_t>(*rank))) : std::nullopt);
    return {};
  }
  const bool allow_zero = ctx.attrs().get_int("allowzero", 0) != 0;
  const SymShape* in = ctx.input_shape(0);
  SymShape out(requested->size());
  std::optional<size_t> inferred;
  for (size_t i = 0; i < requested->size(); ++i) {
    const int64_t d = (*requested)[i];
    if (d == -1) {
      if (inferred) return ctx.error("shape has more than one -1");
      inferred = i;
    } else if (d < -1) {
      return ctx.error("shape has negative dim " + std::to_string(d));
    } else if (d == 0 && !allow_zero) {
      if (in && i >= in->size())
        return ctx.error("shape copies dim " + std::to_string(i) + " (0) but the input has rank " + std::to_string(in->size()));
      out[i] = in ? (*in)[i] : Dim{};
    } else {
      out[i] = Dim::known(d);
    }
  }
  if (inferred && in) {
    KILN_ASSIGN_OR_RETURN(out[*inferred], solve_inferred_dim(ctx, *in, out, *inferred));
  }
  if (!inferred && in && std::all_of(in->begin(), in->end(), [](const Dim& d) { return d.is_known(); }) &&
      std::all_of(out.begin(), out.end(), [](const Dim& d) { return d.is_known(); })) {
    KILN_ASSIGN_OR_RETURN(const Dim in_count, product_dim(ctx, *in, 0, in->size()));
    KILN_ASSIGN_OR_RETURN(const Dim out_count, product_dim(ctx, out, 0, out.size()));
    if (in_count.value != out_count.value)
      return ctx.error("cannot reshape " + sym_shape_to_string(*in) + " to " + sym_shape_to_string(out));
  }
  ctx.set_output(0, dtype, std::move(out));
  return {};
}

Status infer_flatten(InferContext& ctx) {
  const DType dtype = ctx.input_dtype(0);
  const SymShape* in = ctx.input_shape(0);
  if (!in) {
    ctx.set_output(0, dtype, unknown_dims(2));
    return {};
  }
  const auto rank = static_cast<int64_t>(in->size());
  int64_t axis = ctx.attrs().get_int("axis", 1);
  if (axis < -rank || axis > rank)
    return ctx.error("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
  if (axis < 0) axis += rank;
  const auto split = static_cast<size_t>(axis);
  KILN_ASSIGN_OR_RETURN(Dim outer, product_dim(ctx, *in, 0, split));
  KILN_ASSIGN_OR_RETURN(Dim inner, product_dim(ctx, *in, split, in->size()));
  ctx.set_output(0, dtype, SymShape{std::move(outer), std::move(inner)});
  return {};
}

// Normalised, duplicate-free axes against `rank`.
Result<std::vector<size_t>> normalize_axes(const InferContext& ctx, const std::vector<int64_t>& axes, size_t rank) {
  std::vector<size_t> out;
  for (int64_t a : axes) {
    KILN_ASSIGN_OR_RETURN(size_t axis, resolve_axis(ctx, a, rank, "axis"));
    if (std::find(out.begin(), out.end(), axis) != out.end()) return ctx.error("axis " + std::to_string(a) + " repeats");
    out.push_back(axis);
  }
  return out;
}

Status infer_squeeze(InferContext& ctx) {
  const DType dtype = ctx.input_dtype(0);
  const SymShape* in = ctx.input_shape(0);
  OptionalInts axes = optional_constant_ints(ctx, 1);
  if (!in) {
    ctx.set_output(0, dtype, std::nullopt);
    return {};
  }
  if (axes.present && !axes.constant) {
    std::optional<int64_t> n = known_length(ctx, 1);
    bool fits = n && *n <= static_cast<int64_t>(in->size());
    ctx.set_output(0, dtype, fits ? std::optional<SymShape>(unknown_dims(in->size() - static_cast<size_t>(*n))) : std::nullopt);
    return {};
  }
  std::vector<bool> drop(in->size(), false);
  if (axes.present) {
    KILN_ASSIGN_OR_RETURN(std::vector<size_t> normalized, normalize_axes(ctx, axes.values, in->size()));
    for (size_t a : normalized) {
      if ((*in)[a].is_known() && (*in)[a].value != 1)
        return ctx.error("axis " + std::to_string(a) + " of " + sym_shape_to_string(*in) + " is not 1");
      drop[a] = true;
    }
  } else {
    for (size_t d = 0; d < in->size(); ++d) {
      if (!(*in)[d].is_known()) {  // whether it is 1 decides the rank
        ctx.set_output(0, dtype, std::nullopt);
        return {};
      }
      drop[d] = (*in)[d].value == 1;
    }
  }
  SymShape out;
  for (size_t d = 0; d < in->size(); ++d)
    if (!drop[d]) out.push_back((*in)[d]);
  ctx.set_output(0, dtype, std::move(out));
  return {};
}

Status infer_unsqueeze(InferContext& ctx) {
  const DType dtype = ctx.input_dtype(0);
  const SymShape* in = ctx.input_shape(0);
  auto axes = constant_ints(ctx, 1);
  if (!in) {
    ctx.set_output(0, dtype, std::nullopt);
    return {};
  }
  if (!axes) {
    std::optional<int64_t> n = known_length(ctx, 1);
    ctx.set_output(0, dtype, n ? std::optional<SymShape>(unknown_dims(in->size() + static_cast<size_t>(*n))) : std::nullopt);
    return {};
  }
  const size_t out_rank = in->size() + axes->size();
  KILN_ASSIGN_OR_RETURN(std::vector<size_t> normalized, normalize_axes(ctx, *axes, out_rank));
  SymShape out;
  size_t next = 0;
  for (size_t d = 0; d < out_rank; ++d)
    out.push_back(std::find(normalized.begin(), normalized.end(), d) != normalized.end() ? Dim::known(1) : (*in)[next++]);
  ctx.set_output(0, dtype, std::move(out));
  return {};
}

Status infer_shape(InferContext& ctx) {
  const SymShape* in = ctx.input_shape(0);
  if (!in) {
    ctx.set_output(0, DType::kInt64, unknown_dims(1));
    return {};
  }
  const auto rank = static_cast<int64_t>(in->size());
  auto clamp_bound = [rank](int64_t v) { return std::clamp(v < 0 ? v + rank : v, int64_t{0}, rank); };
  const int64_t start = clamp_bound(ctx.attrs().get_int("start", 0));
  const int64_t end = clamp_bound(ctx.attrs().get_int("end", rank));
  ctx.set_output(0, DType::kInt64, SymShape{Dim::known(std::max<int64_t>(end - start, 0))});
  return {};
}

Status infer_size(InferContext& ctx) {
  ctx.set_output(0, DType::kInt64, SymShape{});
  return {};
}

}  // namespace

void register_shape_schemas(SchemaRegistry& registry) {
  registry.add({OpKind::Reshape, 2, 2, 1, 1, with_required_inputs<2, infer_reshape>, zero_flops});
  registry.add({OpKind::Flatten, 1, 1, 1, 1, with_required_inputs<1, infer_flatten>, zero_flops});
  registry.add({OpKind::Squeeze, 1, 2, 1, 1, with_required_inputs<1, infer_squeeze>, zero_flops});
  registry.add({OpKind::Unsqueeze, 2, 2, 1, 1, with_required_inputs<2, infer_unsqueeze>, zero_flops});
  registry.add({OpKind::Shape, 1, 1, 1, 1, with_required_inputs<1, infer_shape>, zero_flops});
  registry.add({OpKind::Size, 1, 1, 1, 1, with_required_inputs<1, infer_size>, zero_flops});
}

}  // namespace kiln::ir::tensor_schemas
