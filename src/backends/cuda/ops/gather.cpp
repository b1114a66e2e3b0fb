// Gather along one axis (embedding lookups) with int64 or int32 indices, any element type.
#include "backends/cuda/kernels/tensor_ops.h"
#include "backends/cuda/ops/op_adapter.h"
#include "core/broadcast.h"

namespace kiln::cuda {
namespace {

Status check_gather(const CudaContext&, const NodeDesc& node) {
  KILN_RETURN_IF_ERROR(expect_input(node, 0));
  KILN_RETURN_IF_ERROR(expect_input(node, 1));
  const TensorDesc& data = node.inputs[0];
  KILN_RETURN_IF_ERROR(expect(data.dtype != DType::kBytes, node, "string tensors"));
  KILN_RETURN_IF_ERROR(expect(node.inputs[1].dtype == DType::kInt64 || node.inputs[1].dtype == DType::kInt32, node, "int64 or int32 indices"));
  KILN_RETURN_IF_ERROR(expect(!node.outputs.empty() && node.outputs[0].dtype == data.dtype, node, "output dtype"));
  KILN_RETURN_IF_ERROR(expect(data.shape.rank() >= 1, node, "scalar data"));
  KILN_ASSIGN_OR_RETURN(const int64_t axis, normalize_axis(node.attrs().get_int("axis", 0), static_cast<int64_t>(data.shape.rank())));
  const int64_t expected = data.shape.numel() / std::max<int64_t>(data.shape[static_cast<size_t>(axis)], 1) * node.inputs[1].shape.numel();
  return expect(data.shape[static_cast<size_t>(axis)] == 0 || node.outputs[0].shape.numel() == expected, node, "output shape");
}

Result<std::unique_ptr<Kernel>> prepare_gather(const CudaContext&, const NodeDesc& node, int32_t) {
  const Shape& data = node.inputs[0].shape;
  KILN_ASSIGN_OR_RETURN(const int64_t axis, normalize_axis(node.attrs().get_int("axis", 0), static_cast<int64_t>(data.rank())));
  GatherArgs g;
  g.index_dtype = node.inputs[1].dtype;
  g.axis_dim = data[static_cast<size_t>(axis)];
  for (size_t d = 0; d < static_cast<size_t>(axis); ++d) g.outer *= data[d];
  for (size_t d = static_cast<size_t>(axis) + 1; d < data.rank(); ++d) g.inner *= data[d];
  g.count = node.inputs[1].shape.numel();
  const size_t element_bytes = dtype_size(node.inputs[0].dtype);
  return make_kernel("gather", 0, [=](const ExecuteArgs& args) {
    KILN_RETURN_IF_ERROR(expect_args(args, 2, 1));
    GatherArgs a = g;
    a.data = args.inputs[0];
    a.indices = args.inputs[1];
    a.out = args.outputs[0];
    return gather(element_bytes, a, stream_of(args));
  });
}

}  // namespace

void register_gather_ops(AdapterTable& table) { table.add(OpKind::Gather, {check_gather, nullptr, prepare_gather}); }

}  // namespace kiln::cuda
