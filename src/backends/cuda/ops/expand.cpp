// Expand: a broadcasting copy -- the strided copy with stride 0 along the broadcast axes.
#include "backends/cuda/kernels/tensor_ops.h"
#include "backends/cuda/ops/op_adapter.h"
#include "core/broadcast.h"

namespace kiln::cuda {
namespace {

Status check_expand(const CudaContext&, const NodeDesc& node) {
  KILN_RETURN_IF_ERROR(expect_input(node, 0));
  KILN_RETURN_IF_ERROR(expect(!node.outputs.empty() && node.outputs[0].dtype == node.inputs[0].dtype &&
                                  node.inputs[0].dtype != DType::kBytes,
                              node, "output dtype"));
  KILN_RETURN_IF_ERROR(expect(node.outputs[0].shape.rank() <= kMaxCopyRank, node, "rank above 8"));
  KILN_RETURN_IF_ERROR(expect(node.outputs[0].shape.numel() > 0, node, "empty output"));
  KILN_ASSIGN_OR_RETURN(const Shape all, broadcast_shapes(node.inputs[0].shape, node.outputs[0].shape));
  return expect(all == node.outputs[0].shape, node, "the output shape is not the input's broadcast");
}

Result<std::unique_ptr<Kernel>> prepare_expand(const CudaContext&, const NodeDesc& node, int32_t) {
  const Shape& out = node.outputs[0].shape;
  const std::vector<int64_t> src = broadcast_strides(node.inputs[0].shape, out);
  StridedCopy copy;
  copy.rank = static_cast<int>(out.rank());
  int64_t stride = 1;
  for (int d = copy.rank - 1; d >= 0; --d) {
    copy.dims[d] = out[static_cast<size_t>(d)];
    copy.src_strides[d] = src[static_cast<size_t>(d)];
    copy.dst_strides[d] = stride;
    stride *= out[static_cast<size_t>(d)];
  }
  const size_t element_bytes = dtype_size(node.outputs[0].dtype);
  return make_kernel("broadcast copy", 0, [=](const ExecuteArgs& args) {
    KILN_RETURN_IF_ERROR(expect_args(args, args.inputs.size(), 1));
    return strided_copy(element_bytes, args.inputs[0], args.outputs[0], copy, stream_of(args));
  });
}

}  // namespace

void register_expand_ops(AdapterTable& table) { table.add(OpKind::Expand, {check_expand, nullptr, prepare_expand}); }

}  // namespace kiln::cuda
