// Ops that only change the shape of their input (the elements keep their row-major order), plus
// Shape and Size, which report it.
#include <algorithm>

#include "backends/reference/kernels/tensor_common.h"
#include "core/broadcast.h"

namespace kiln::reference::tensor_ops {
namespace {

// The elements of `data` under a new shape, in a fresh buffer (kernels never alias inputs).
Result<Tensor> with_shape(const Tensor& data, Shape shape, const std::string& what) {
  KILN_ASSIGN_OR_RETURN(int64_t n, checked_numel(shape, what));
  if (n != data.numel())
    return invalid_argument(what + ": cannot reshape " + data.shape().to_string() + " (" + std::to_string(data.numel()) +
                            " elements) to " + shape.to_string() + " (" + std::to_string(n) + " elements)");
  return data.clone().reshaped(std::move(shape));
}

Status reshape_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* data, required_input(ctx, 0, "Reshape"));
  KILN_ASSIGN_OR_RETURN(const Tensor* shape_input, required_input(ctx, 1, "Reshape"));
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> requested, to_int64s(*shape_input, "Reshape input 'shape'"));
  const bool allow_zero = ctx.attributes().get_int("allowzero", 0) != 0;
  std::vector<int64_t> dims(requested.size());
  int inferred_axis = -1;
  int64_t known = 1;
  for (size_t i = 0; i < requested.size(); ++i) {
    int64_t d = requested[i];
    if (d == -1) {
      if (inferred_axis >= 0) return invalid_argument("Reshape: shape " + shape_list_string(requested) + " has more than one -1");
      inferred_axis = static_cast<int>(i);
      continue;
    }
    if (d < -1) return invalid_argument("Reshape: shape " + shape_list_string(requested) + " has negative dim " + std::to_string(d));
    if (d == 0 && !allow_zero) {
      if (i >= data->rank())
        return invalid_argument("Reshape: shape " + shape_list_string(requested) + " copies dim " + std::to_string(i) +
                                " (0) but the input " + data->shape().to_string() + " has rank " + std::to_string(data->rank()));
      d = data->shape()[i];
    }
    dims[i] = d;
    KILN_ASSIGN_OR_RETURN(known, checked_numel(Shape{known, d}, "Reshape"));
  }
  if (inferred_axis >= 0) {
    if (known == 0 || data->numel() % known != 0)
      return invalid_argument("Reshape: cannot infer the -1 dim of " + shape_list_string(requested) + " for input " +
                              data->shape().to_string());
    dims[static_cast<size_t>(inferred_axis)] = data->numel() / known;
  }
  KILN_ASSIGN_OR_RETURN(ctx.outputs[0], with_shape(*data, Shape(std::move(dims)), "Reshape"));
  return {};
}

Status flatten_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* data, required_input(ctx, 0, "Flatten"));
  const auto rank = static_cast<int64_t>(data->rank());
  int64_t axis = ctx.attributes().get_int("axis", 1);
  if (axis < -rank || axis > rank)
    return invalid_argument("Flatten: axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
  if (axis < 0) axis += rank;
  int64_t outer = 1;
  int64_t inner = 1;
  for (int64_t d = 0; d < rank; ++d) (d < axis ? outer : inner) *= data->shape()[static_cast<size_t>(d)];
  KILN_ASSIGN_OR_RETURN(ctx.outputs[0], with_shape(*data, Shape{outer, inner}, "Flatten"));
  return {};
}

// Axes from an optional int64 input, normalised against `rank`; duplicates are an error.
Result<std::vector<int64_t>> read_axes(const Tensor& t, int64_t rank, const char* op) {
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> axes, to_int64s(t, std::string(op) + " input 'axes'"));
  for (int64_t& a : axes) {
    auto normalized = normalize_axis(a, rank);
    if (!normalized.ok() || rank == 0) return invalid_argument(std::string(op) + ": axis " + std::to_string(a) +
                                                               " is out of range for rank " + std::to_string(rank));
    a = *normalized;
  }
  std::vector<int64_t> sorted = axes;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
    return invalid_argument(std::string(op) + ": axes " + shape_list_string(axes) + " repeat an axis");
  return axes;
}

Status squeeze_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* data, required_input(ctx, 0, "Squeeze"));
  const Shape& in = data->shape();
  std::vector<bool> drop(in.rank(), false);
  if (const Tensor* axes_input = ctx.input(1); axes_input != nullptr && axes_input->defined()) {
    KILN_ASSIGN_OR_RETURN(std::vector<int64_t> axes, read_axes(*axes_input, static_cast<int64_t>(in.rank()), "Squeeze"));
    for (int64_t a : axes) {
      if (in[static_cast<size_t>(a)] != 1)
        return invalid_argument("Squeeze: axis " + std::to_string(a) + " of shape " + in.to_string() + " is not 1");
      drop[static_cast<size_t>(a)] = true;
    }
  } else {
    for (size_t d = 0; d < in.rank(); ++d) drop[d] = in[d] == 1;
  }
  std::vector<int64_t> dims;
  for (size_t d = 0; d < in.rank(); ++d)
    if (!drop[d]) dims.push_back(in[d]);
  KILN_ASSIGN_OR_RETURN(ctx.outputs[0], with_shape(*data, Shape(std::move(dims)), "Squeeze"));
  return {};
}

Status unsqueeze_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* data, required_input(ctx, 0, "Unsqueeze"));
  KILN_ASSIGN_OR_RETURN(const Tensor* axes_input, required_input(ctx, 1, "Unsqueeze"));
  const auto out_rank = static_cast<int64_t>(data->rank() + static_cast<size_t>(axes_input->numel()));
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> axes, read_axes(*axes_input, out_rank, "Unsqueeze"));
  std::vector<bool> inserted(static_cast<size_t>(out_rank), false);
  for (int64_t a : axes) inserted[static_cast<size_t>(a)] = true;
  std::vector<int64_t> dims;
  size_t next_input_dim = 0;
  for (int64_t d = 0; d < out_rank; ++d)
    dims.push_back(inserted[static_cast<size_t>(d)] ? 1 : data->shape()[next_input_dim++]);
  KILN_ASSIGN_OR_RETURN(ctx.outputs[0], with_shape(*data, Shape(std::move(dims)), "Unsqueeze"));
  return {};
}

Status shape_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* data, required_input(ctx, 0, "Shape"));
  const auto rank = static_cast<int64_t>(data->rank());
  auto clamp_bound = [rank](int64_t v) { return std::clamp(v < 0 ? v + rank : v, int64_t{0}, rank); };
  const int64_t start = clamp_bound(ctx.attributes().get_int("start", 0));
  const int64_t end = clamp_bound(ctx.attributes().get_int("end", rank));
  std::vector<int64_t> dims;
  for (int64_t d = start; d < end; ++d) dims.push_back(data->shape()[static_cast<size_t>(d)]);
  ctx.outputs[0] = Tensor::from_vector(DType::kInt64, Shape{static_cast<int64_t>(dims.size())}, dims);
  return {};
}

Status size_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* data, required_input(ctx, 0, "Size"));
  ctx.outputs[0] = Tensor::from_vector(DType::kInt64, Shape{}, std::vector<int64_t>{data->numel()});
  return {};
}

}  // namespace

void register_tensor_shape_kernels(KernelTable& table) {
  table.add(OpKind::Reshape, reshape_kernel);
  table.add(OpKind::Flatten, flatten_kernel);
  table.add(OpKind::Squeeze, squeeze_kernel);
  table.add(OpKind::Unsqueeze, unsqueeze_kernel);
  table.add(OpKind::Shape, shape_kernel);
  table.add(OpKind::Size, size_kernel);
}

}  // namespace kiln::reference::tensor_ops
