// Index-driven reads: Gather, GatherElements, GatherND and Compress. Every index is resolved
// (negative from the end) and range-checked before any element is read.
#include "backends/reference/kernels/tensor_common.h"

namespace kiln::reference::tensor_ops {
namespace {

int64_t dims_product(const std::vector<int64_t>& dims, size_t begin, size_t end) {
  int64_t n = 1;
  for (size_t d = begin; d < end; ++d) n *= dims[d];
  return n;
}

Result<size_t> axis_attribute(const KernelContext& ctx, int64_t rank, const char* op) {
  const int64_t axis = ctx.attributes().get_int("axis", 0);
  if (rank == 0 || axis < -rank || axis >= rank)
    return invalid_argument(std::string(op) + ": axis " + std::to_string(axis) + " is out of range for rank " +
                            std::to_string(rank));
  return static_cast<size_t>(axis < 0 ? axis + rank : axis);
}

Status gather_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* data, required_input(ctx, 0, "Gather"));
  KILN_ASSIGN_OR_RETURN(const Tensor* indices_input, required_input(ctx, 1, "Gather"));
  KILN_ASSIGN_OR_RETURN(size_t axis, axis_attribute(ctx, static_cast<int64_t>(data->rank()), "Gather"));
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> indices, read_indices(*indices_input, "Gather input 'indices'"));
  const std::vector<int64_t>& in_dims = data->shape().dims();
  for (int64_t& i : indices) {
    KILN_ASSIGN_OR_RETURN(i, resolve_index(i, in_dims[axis], "Gather input 'indices' on axis " + std::to_string(axis)));
  }
  std::vector<int64_t> out_dims(in_dims.begin(), in_dims.begin() + static_cast<std::ptrdiff_t>(axis));
  for (int64_t d : indices_input->shape().dims()) out_dims.push_back(d);
  out_dims.insert(out_dims.end(), in_dims.begin() + static_cast<std::ptrdiff_t>(axis) + 1, in_dims.end());
  KILN_ASSIGN_OR_RETURN(Tensor out, allocate_output(data->dtype(), Shape(out_dims), "Gather"));
  const int64_t outer = dims_product(in_dims, 0, axis);
  const int64_t inner = dims_product(in_dims, axis + 1, in_dims.size());
  const auto count = static_cast<int64_t>(indices.size());
  ElementCopier copier(*data, out);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t k = 0; k < count; ++k)
      copier.copy((o * count + k) * inner, (o * in_dims[axis] + indices[static_cast<size_t>(k)]) * inner, inner);
  ctx.outputs[0] = std::move(out);
  return {};
}

Status gather_elements_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* data, required_input(ctx, 0, "GatherElements"));
  KILN_ASSIGN_OR_RETURN(const Tensor* indices_input, required_input(ctx, 1, "GatherElements"));
  const size_t rank = data->rank();
  KILN_ASSIGN_OR_RETURN(size_t axis, axis_attribute(ctx, static_cast<int64_t>(rank), "GatherElements"));
  bool fits = indices_input->rank() == rank;
  for (size_t d = 0; fits && d < rank; ++d) fits = d == axis || indices_input->shape()[d] <= data->shape()[d];
  if (!fits)
    return invalid_argument("GatherElements: indices shape " + indices_input->shape().to_string() +
                            " must have the rank of data " + data->shape().to_string() +
                            " and no larger dims outside axis " + std::to_string(axis));
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> indices, read_indices(*indices_input, "GatherElements input 'indices'"));
  const int64_t bound = data->shape()[axis];
  for (int64_t& i : indices) {
    KILN_ASSIGN_OR_RETURN(i, resolve_index(i, bound, "GatherElements input 'indices' on axis " + std::to_string(axis)));
  }
  const std::vector<int64_t> strides = contiguous_strides(data->shape());
  size_t flat = 0;
  KILN_ASSIGN_OR_RETURN(Tensor out, gather_elements_by(*data, indices_input->shape(), "GatherElements",
                                                       [&](const std::vector<int64_t>& idx) {
                                                         int64_t off = 0;
                                                         for (size_t d = 0; d < idx.size(); ++d)
                                                           off += (d == axis ? indices[flat] : idx[d]) * strides[d];
                                                         ++flat;
                                                         return off;
                                                       }));
  ctx.outputs[0] = std::move(out);
  return {};
}

Status gather_nd_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* data, required_input(ctx, 0, "GatherND"));
  KILN_ASSIGN_OR_RETURN(const Tensor* indices_input, required_input(ctx, 1, "GatherND"));
  const std::vector<int64_t>& data_dims = data->shape().dims();
  const std::vector<int64_t>& index_dims = indices_input->shape().dims();
  const int64_t batch_dims = ctx.attributes().get_int("batch_dims", 0);
  const auto r = static_cast<int64_t>(data_dims.size());
  const auto q = static_cast<int64_t>(index_dims.size());
  if (batch_dims < 0 || batch_dims >= std::min(r, q))
    return invalid_argument("GatherND: batch_dims " + std::to_string(batch_dims) + " must be in [0, min(data rank " +
                            std::to_string(r) + ", indices rank " + std::to_string(q) + "))");
  const auto b = static_cast<size_t>(batch_dims);
  const int64_t m = index_dims.back();
  if (m < 1 || m > r - batch_dims)
    return invalid_argument("GatherND: the last indices dim (" + std::to_string(m) + ") must be in [1, " +
                            std::to_string(r - batch_dims) + "]");
  for (size_t d = 0; d < b; ++d)
    if (index_dims[d] != data_dims[d])
      return invalid_argument("GatherND: batch dim " + std::to_string(d) + " differs: data " + data->shape().to_string() +
                              ", indices " + indices_input->shape().to_string());
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> indices, read_indices(*indices_input, "GatherND input 'indices'"));
  std::vector<int64_t> out_dims(index_dims.begin(), index_dims.end() - 1);
  const size_t slice_begin = b + static_cast<size_t>(m);
  out_dims.insert(out_dims.end(), data_dims.begin() + static_cast<std::ptrdiff_t>(slice_begin), data_dims.end());
  KILN_ASSIGN_OR_RETURN(Tensor out, allocate_output(data->dtype(), Shape(out_dims), "GatherND"));
  const std::vector<int64_t> strides = contiguous_strides(data->shape());
  const int64_t slice = dims_product(data_dims, slice_begin, data_dims.size());
  const int64_t batches = dims_product(data_dims, 0, b);
  const int64_t batch_stride = dims_product(data_dims, b, data_dims.size());
  const int64_t tuples_per_batch = dims_product(index_dims, b, index_dims.size() - 1);
  ElementCopier copier(*data, out);
  for (int64_t batch = 0; batch < batches; ++batch) {
    for (int64_t t = 0; t < tuples_per_batch; ++t) {
      const int64_t tuple = batch * tuples_per_batch + t;
      int64_t src = batch * batch_stride;
      for (int64_t k = 0; k < m; ++k) {
        const size_t d = b + static_cast<size_t>(k);
        KILN_ASSIGN_OR_RETURN(int64_t i, resolve_index(indices[static_cast<size_t>(tuple * m + k)], data_dims[d],
                                                       "GatherND input 'indices' for data dim " + std::to_string(d)));
        src += i * strides[d];
      }
      copier.copy(tuple * slice, src, slice);
    }
  }
  ctx.outputs[0] = std::move(out);
  return {};
}

Status compress_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* data, required_input(ctx, 0, "Compress"));
  KILN_ASSIGN_OR_RETURN(const Tensor* condition, required_input(ctx, 1, "Compress"));
  if (condition->dtype() != DType::kBool || condition->rank() != 1)
    return invalid_argument("Compress: condition must be a 1-D bool tensor, got " + std::string(dtype_name(condition->dtype())) +
                            " " + condition->shape().to_string());
  const bool has_axis = ctx.attributes().has("axis");
  Tensor source = *data;
  size_t axis = 0;
  if (has_axis) {
    KILN_ASSIGN_OR_RETURN(axis, axis_attribute(ctx, static_cast<int64_t>(data->rank()), "Compress"));
  } else {
    KILN_ASSIGN_OR_RETURN(source, data->reshaped(Shape{data->numel()}));
  }
  const std::vector<int64_t>& dims = source.shape().dims();
  if (condition->numel() > dims[axis])
    return invalid_argument("Compress: condition has " + std::to_string(condition->numel()) +
                            " entries but the compressed dim has only " + std::to_string(dims[axis]));
  std::vector<int64_t> kept;
  for (int64_t i = 0; i < condition->numel(); ++i)
    if (condition->data<bool>()[i]) kept.push_back(i);
  std::vector<int64_t> out_dims = dims;
  out_dims[axis] = static_cast<int64_t>(kept.size());
  Tensor out(data->dtype(), Shape(out_dims));
  const int64_t outer = dims_product(dims, 0, axis);
  const int64_t inner = dims_product(dims, axis + 1, dims.size());
  const auto count = static_cast<int64_t>(kept.size());
  ElementCopier copier(source, out);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t k = 0; k < count; ++k)
      copier.copy((o * count + k) * inner, (o * dims[axis] + kept[static_cast<size_t>(k)]) * inner, inner);
  ctx.outputs[0] = std::move(out);
  return {};
}

}  // namespace

void register_tensor_gather_kernels(KernelTable& table) {
  table.add(OpKind::Gather, gather_kernel);
  table.add(OpKind::GatherElements, gather_elements_kernel);
  table.add(OpKind::GatherND, gather_nd_kernel);
  table.add(OpKind::Compress, compress_kernel);
}

}  // namespace kiln::reference::tensor_ops
