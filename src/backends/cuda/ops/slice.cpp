// Slice with constant starts/ends/axes/steps (ONNX clamping rules, negative steps too), as a
// strided copy.
#include <algorithm>

#include "backends/cuda/kernels/tensor_ops.h"
#include "backends/cuda/ops/op_adapter.h"
#include "core/broadcast.h"

namespace kiln::cuda {
namespace {

Result<StridedCopy> slice_copy(const NodeDesc& node) {
  KILN_RETURN_IF_ERROR(expect_input(node, 0));
  KILN_RETURN_IF_ERROR(expect(node.inputs[0].dtype != DType::kBytes, node, "string tensors"));
  const Shape& in = node.inputs[0].shape;
  const auto rank = static_cast<int64_t>(in.rank());
  KILN_RETURN_IF_ERROR(expect(rank <= kMaxCopyRank, node, "rank above 8"));
  KILN_ASSIGN_OR_RETURN(const std::vector<int64_t> starts, constant_ints(node, 1));
  KILN_ASSIGN_OR_RETURN(const std::vector<int64_t> ends, constant_ints(node, 2));
  std::vector<int64_t> axes, steps;
  if (node.inputs.size() > 3 && node.inputs[3].present()) {
    KILN_ASSIGN_OR_RETURN(axes, constant_ints(node, 3));
  } else {
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  }
  if (node.inputs.size() > 4 && node.inputs[4].present()) {
    KILN_ASSIGN_OR_RETURN(steps, constant_ints(node, 4));
  } else {
    steps.assign(starts.size(), 1);
  }
  if (starts.size() != ends.size() || axes.size() != starts.size() || steps.size() != starts.size()) {
    return invalid_argument("Slice: starts, ends, axes and steps must have one entry per sliced axis");
  }
  const std::vector<int64_t> in_strides = contiguous_strides(in);
  StridedCopy c;
  c.rank = static_cast<int>(rank);
  for (int64_t d = 0; d < rank; ++d) {
    c.dims[d] = in[static_cast<size_t>(d)];
    c.src_strides[d] = in_strides[static_cast<size_t>(d)];
  }
  for (size_t i = 0; i < axes.size(); ++i) {
    KILN_ASSIGN_OR_RETURN(const int64_t axis, normalize_axis(axes[i], rank));
    const int64_t dim = in[static_cast<size_t>(axis)], step = steps[i];
    if (step == 0) return invalid_argument("Slice: step 0");
    int64_t start = starts[i] < 0 ? starts[i] + dim : starts[i];
    int64_t end = ends[i] < 0 ? ends[i] + dim : ends[i];
    int64_t count = 0;
    if (step > 0) {
      start = std::clamp<int64_t>(start, 0, dim);
      end = std::clamp<int64_t>(end, 0, dim);
      count = end > start ? (end - start + step - 1) / step : 0;
    } else {
      start = std::clamp<int64_t>(start, 0, dim - 1);
      end = std::clamp<int64_t>(end, -1, dim - 1);
      count = start > end ? (start - end + (-step) - 1) / (-step) : 0;
    }
    c.dims[axis] = count;
    c.src_offset += start * in_strides[static_cast<size_t>(axis)];
    c.src_strides[axis] = step * in_strides[static_cast<size_t>(axis)];
  }
  int64_t stride = 1;
  std::vector<int64_t> out_dims(static_cast<size_t>(rank));
  for (int64_t d = rank - 1; d >= 0; --d) {
    c.dst_strides[d] = stride;
    stride *= c.dims[d];
    out_dims[static_cast<size_t>(d)] = c.dims[d];
  }
  KILN_RETURN_IF_ERROR(expect(!node.outputs.empty() && node.outputs[0].shape == Shape(out_dims), node, "output shape"));
  return c;
}

Status check_slice(const CudaContext&, const NodeDesc& node) { return slice_copy(node).status(); }

Result<std::unique_ptr<Kernel>> prepare_slice(const CudaContext&, const NodeDesc& node, int32_t) {
  KILN_ASSIGN_OR_RETURN(const StridedCopy copy, slice_copy(node));
  const size_t element_bytes = dtype_size(node.inputs[0].dtype);
  return make_kernel("strided copy", 0, [=](const ExecuteArgs& args) {
    KILN_RETURN_IF_ERROR(expect_args(args, 1, 1));
    return strided_copy(element_bytes, args.inputs[0], args.outputs[0], copy, stream_of(args));
  });
}

}  // namespace

void register_slice_ops(AdapterTable& table) { table.add(OpKind::Slice, {check_slice, nullptr, prepare_slice}); }

}  // namespace kiln::cuda
