// Ops that rearrange elements: Transpose, Concat, Split, Slice, Expand, Tile. Each computes, for
// every output element, the flat index of its source element and copies it.
#include <algorithm>

#include "backends/reference/kernels/tensor_common.h"
#include "core/broadcast.h"

namespace kiln::reference::tensor_ops {
namespace {

Status transpose_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* data, required_input(ctx, 0, "Transpose"));
  const size_t rank = data->rank();
  std::vector<int64_t> perm(rank);
  for (size_t i = 0; i < rank; ++i) perm[i] = static_cast<int64_t>(rank - 1 - i);
  perm = ctx.attributes().get_ints("perm", perm);
  std::vector<bool> seen(rank, false);
  if (perm.size() != rank)
    return invalid_argument("Transpose: perm " + shape_list_string(perm) + " does not match input rank " + std::to_string(rank));
  for (int64_t p : perm) {
    if (p < 0 || p >= static_cast<int64_t>(rank) || seen[static_cast<size_t>(p)])
      return invalid_argument("Transpose: perm " + shape_list_string(perm) + " is not a permutation of 0.." +
                              std::to_string(rank) + "-1");
    seen[static_cast<size_t>(p)] = true;
  }
  const std::vector<int64_t> in_strides = contiguous_strides(data->shape());
  std::vector<int64_t> out_dims(rank), strides(rank);
  for (size_t i = 0; i < rank; ++i) {
    out_dims[i] = data->shape()[static_cast<size_t>(perm[i])];
    strides[i] = in_strides[static_cast<size_t>(perm[i])];
  }
  KILN_ASSIGN_OR_RETURN(ctx.outputs[0], gather_elements_by(*data, Shape(out_dims), "Transpose",
                                                           [&](const std::vector<int64_t>& i) { return offset_of(i, strides); }));
  return {};
}

// Product of dims [begin, end).
int64_t dims_product(const Shape& s, size_t begin, size_t end) {
  int64_t n = 1;
  for (size_t d = begin; d < end; ++d) n *= s[d];
  return n;
}

Status concat_kernel(KernelContext& ctx) {
  if (ctx.num_inputs() == 0) return invalid_argument("Concat needs at least one input");
  KILN_ASSIGN_OR_RETURN(const Tensor* first, required_input(ctx, 0, "Concat"));
  KILN_ASSIGN_OR_RETURN(int64_t axis_attr, ctx.attributes().require_int("axis"));
  const auto rank = static_cast<int64_t>(first->rank());
  if (rank == 0 || axis_attr < -rank || axis_attr >= rank)
    return invalid_argument("Concat: axis " + std::to_string(axis_attr) + " is out of range for rank " + std::to_string(rank));
  const auto axis = static_cast<size_t>(axis_attr < 0 ? axis_attr + rank : axis_attr);
  std::vector<int64_t> out_dims = first->shape().dims();
  out_dims[axis] = 0;
  for (size_t k = 0; k < ctx.num_inputs(); ++k) {
    KILN_ASSIGN_OR_RETURN(const Tensor* in, required_input(ctx, k, "Concat"));
    bool compatible = in->dtype() == first->dtype() && in->rank() == first->rank();
    for (size_t d = 0; compatible && d < in->rank(); ++d) compatible = d == axis || in->shape()[d] == first->shape()[d];
    if (!compatible)
      return invalid_argument("Concat: input " + std::to_string(k) + " (" + std::string(dtype_name(in->dtype())) + " " +
                              in->shape().to_string() + ") does not match input 0 (" +
                              std::string(dtype_name(first->dtype())) + " " + first->shape().to_string() +
                              ") outside axis " + std::to_string(axis));
    out_dims[axis] += in->shape()[axis];
  }
  const Shape out_shape(out_dims);
  KILN_ASSIGN_OR_RETURN(Tensor out, allocate_output(first->dtype(), out_shape, "Concat"));
  const int64_t outer = dims_product(out_shape, 0, axis);
  const int64_t inner = dims_product(out_shape, axis + 1, out_shape.rank());
  const int64_t out_row = out_dims[axis] * inner;
  int64_t column = 0;
  for (const Tensor* in : ctx.inputs) {
    const int64_t chunk = in->shape()[axis] * inner;
    ElementCopier copier(*in, out);
    for (int64_t o = 0; o < outer; ++o) copier.copy(o * out_row + column, o * chunk, chunk);
    column += chunk;
  }
  ctx.outputs[0] = std::move(out);
  return {};
}

Status split_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* data, required_input(ctx, 0, "Split"));
  const auto rank = static_cast<int64_t>(data->rank());
  const int64_t axis_attr = ctx.attributes().get_int("axis", 0);
  if (rank == 0 || axis_attr < -rank || axis_attr >= rank)
    return invalid_argument("Split: axis " + std::to_string(axis_attr) + " is out of range for rank " + std::to_string(rank));
  const auto axis = static_cast<size_t>(axis_attr < 0 ? axis_attr + rank : axis_attr);
  const int64_t dim = data->shape()[axis];
  const auto parts = static_cast<int64_t>(ctx.num_outputs());
  std::vector<int64_t> sizes;
  if (const Tensor* split = ctx.input(1); split != nullptr && split->defined()) {
    KILN_ASSIGN_OR_RETURN(sizes, to_int64s(*split, "Split input 'split'"));
    int64_t total = 0;
    for (int64_t s : sizes) total += (s < 0 || s > dim) ? dim + 1 : s;  // a bad size makes the check fail
    if (static_cast<int64_t>(sizes.size()) != parts || total != dim)
      return invalid_argument("Split: sizes " + shape_list_string(sizes) + " must be " + std::to_string(parts) +
                              " non-negative numbers summing to dim " + std::to_string(axis) + " (" +
                              std::to_string(dim) + ")");
  } else {
    if (parts == 0 || dim % parts != 0)
      return invalid_argument("Split: dim " + std::to_string(axis) + " (" + std::to_string(dim) + ") cannot be split into " +
                              std::to_string(parts) + " equal parts");
    sizes.assign(static_cast<size_t>(parts), dim / parts);
  }
  const int64_t outer = dims_product(data->shape(), 0, axis);
  const int64_t inner = dims_product(data->shape(), axis + 1, data->rank());
  int64_t column = 0;
  for (size_t k = 0; k < sizes.size(); ++k) {
    std::vector<int64_t> dims = data->shape().dims();
    dims[axis] = sizes[k];
    Tensor out(data->dtype(), Shape(dims));
    ElementCopier copier(*data, out);
    const int64_t chunk = sizes[k] * inner;
    for (int64_t o = 0; o < outer; ++o) copier.copy(o * chunk, o * dim * inner + column, chunk);
    column += chunk;
    ctx.outputs[k] = std::move(out);
  }
  return {};
}

Result<std::vector<int64_t>> optional_ints(const KernelContext& ctx, size_t i, const std::string& what) {
  const Tensor* t = ctx.input(i);
  if (t == nullptr || !t->defined()) return std::vector<int64_t>{};
  return to_int64s(*t, what);
}

Status slice_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* data, required_input(ctx, 0, "Slice"));
  KILN_ASSIGN_OR_RETURN(const Tensor* starts_input, required_input(ctx, 1, "Slice"));
  KILN_ASSIGN_OR_RETURN(const Tensor* ends_input, required_input(ctx, 2, "Slice"));
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> starts, to_int64s(*starts_input, "Slice input 'starts'"));
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> ends, to_int64s(*ends_input, "Slice input 'ends'"));
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> axes, optional_ints(ctx, 3, "Slice input 'axes'"));
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> steps, optional_ints(ctx, 4, "Slice input 'steps'"));
  const size_t n = starts.size();
  const auto rank = static_cast<int64_t>(data->rank());
  if (axes.empty() && ctx.input(3) == nullptr)
    for (size_t i = 0; i < n; ++i) axes.push_back(static_cast<int64_t>(i));
  if (steps.empty() && ctx.input(4) == nullptr) steps.assign(n, 1);
  if (ends.size() != n || axes.size() != n || steps.size() != n)
    return invalid_argument("Slice: starts, ends, axes and steps must have the same length, got " +
                            std::to_string(n) + ", " + std::to_string(ends.size()) + ", " + std::to_string(axes.size()) +
                            ", " + std::to_string(steps.size()));
  std::vector<int64_t> first(data->rank(), 0), step(data->rank(), 1), out_dims = data->shape().dims();
  std::vector<bool> sliced(data->rank(), false);
  for (size_t i = 0; i < n; ++i) {
    int64_t a = axes[i];
    if (a < -rank || a >= rank)
      return invalid_argument("Slice: axis " + std::to_string(a) + " is out of range for rank " + std::to_string(rank));
    const auto axis = static_cast<size_t>(a < 0 ? a + rank : a);
    if (sliced[axis]) return invalid_argument("Slice: axis " + std::to_string(axis) + " is sliced twice");
    sliced[axis] = true;
    const int64_t dim = data->shape()[axis];
    const int64_t s = steps[i];
    if (s == 0) return invalid_argument("Slice: step for axis " + std::to_string(axis) + " is 0");
    int64_t b = starts[i] < 0 ? starts[i] + dim : starts[i];
    int64_t e = ends[i] < 0 ? ends[i] + dim : ends[i];
    // Positive steps clamp to [0, dim]; negative steps walk from at most dim-1 down to -1.
    b = s > 0 ? std::clamp<int64_t>(b, 0, dim) : std::clamp<int64_t>(b, 0, dim - 1);
    e = s > 0 ? std::clamp<int64_t>(e, 0, dim) : std::clamp<int64_t>(e, -1, dim - 1);
    const int64_t span = s > 0 ? e - b : b - e;
    const int64_t magnitude = s > 0 ? s : (s == INT64_MIN ? INT64_MAX : -s);
    first[axis] = b;
    step[axis] = s;
    out_dims[axis] = span <= 0 ? 0 : (span - 1) / magnitude + 1;
  }
  const std::vector<int64_t> in_strides = contiguous_strides(data->shape());
  KILN_ASSIGN_OR_RETURN(ctx.outputs[0], gather_elements_by(*data, Shape(out_dims), "Slice", [&](const std::vector<int64_t>& idx) {
                          int64_t off = 0;
                          for (size_t d = 0; d < idx.size(); ++d) off += (first[d] + idx[d] * step[d]) * in_strides[d];
                          return off;
                        }));
  return {};
}

Status expand_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* data, required_input(ctx, 0, "Expand"));
  KILN_ASSIGN_OR_RETURN(const Tensor* shape_input, required_input(ctx, 1, "Expand"));
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> requested, to_int64s(*shape_input, "Expand input 'shape'"));
  for (int64_t d : requested)
    if (d < 0) return invalid_argument("Expand: shape " + shape_list_string(requested) + " has a negative dim");
  KILN_ASSIGN_OR_RETURN(Shape out_shape, broadcast_shapes(data->shape(), Shape(requested)));
  const std::vector<int64_t> strides = broadcast_strides(data->shape(), out_shape);
  KILN_ASSIGN_OR_RETURN(ctx.outputs[0], gather_elements_by(*data, out_shape, "Expand",
                                                           [&](const std::vector<int64_t>& i) { return offset_of(i, strides); }));
  return {};
}

Status tile_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* data, required_input(ctx, 0, "Tile"));
  KILN_ASSIGN_OR_RETURN(const Tensor* repeats_input, required_input(ctx, 1, "Tile"));
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> repeats, to_int64s(*repeats_input, "Tile input 'repeats'"));
  if (repeats.size() != data->rank())
    return invalid_argument("Tile: repeats " + shape_list_string(repeats) + " must have one entry per input dim (rank " +
                            std::to_string(data->rank()) + ")");
  std::vector<int64_t> out_dims(data->rank());
  for (size_t d = 0; d < data->rank(); ++d) {
    if (repeats[d] < 0) return invalid_argument("Tile: repeats " + shape_list_string(repeats) + " has a negative entry");
    KILN_ASSIGN_OR_RETURN(out_dims[d], checked_numel(Shape{data->shape()[d], repeats[d]}, "Tile"));
  }
  const std::vector<int64_t> in_strides = contiguous_strides(data->shape());
  KILN_ASSIGN_OR_RETURN(ctx.outputs[0], gather_elements_by(*data, Shape(out_dims), "Tile", [&](const std::vector<int64_t>& idx) {
                          int64_t off = 0;
                          for (size_t d = 0; d < idx.size(); ++d) off += (idx[d] % data->shape()[d]) * in_strides[d];
                          return off;
                        }));
  return {};
}

}  // namespace

void register_tensor_layout_kernels(KernelTable& table) {
  table.add(OpKind::Transpose, transpose_kernel);
  table.add(OpKind::Concat, concat_kernel);
  table.add(OpKind::Split, split_kernel);
  table.add(OpKind::Slice, slice_kernel);
  table.add(OpKind::Expand, expand_kernel);
  table.add(OpKind::Tile, tile_kernel);
}

}  // namespace kiln::reference::tensor_ops
