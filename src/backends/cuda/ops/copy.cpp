// Ops whose output is the input's bytes: Identity, Dropout (inference), Reshape, Flatten,
// Squeeze, Unsqueeze. A device-to-device copy on the stream (capturable); the builder may alias
// the buffers instead and skip the node.
#include "backends/cuda/cuda_status.h"
#include "backends/cuda/ops/op_adapter.h"

namespace kiln::cuda {
namespace {

Status check_copy(const CudaContext&, const NodeDesc& node) {
  KILN_RETURN_IF_ERROR(expect_input(node, 0));
  KILN_RETURN_IF_ERROR(expect_single_output(node));
  KILN_RETURN_IF_ERROR(expect(!node.outputs.empty() && node.outputs[0].present(), node, "output 0 is missing"));
  KILN_RETURN_IF_ERROR(expect(node.inputs[0].dtype == node.outputs[0].dtype && node.inputs[0].dtype != DType::kBytes, node,
                              "input and output must share a numeric dtype"));
  return expect(node.inputs[0].shape.checked_numel() == node.outputs[0].shape.checked_numel(), node,
                "input and output must have the same element count");
}

Result<std::unique_ptr<Kernel>> prepare_copy(const CudaContext&, const NodeDesc& node, int32_t) {
  const size_t bytes = static_cast<size_t>(node.outputs[0].shape.numel()) * dtype_size(node.outputs[0].dtype);
  return make_kernel("device copy", 0, [=](const ExecuteArgs& args) {
    KILN_RETURN_IF_ERROR(expect_args(args, 1, 1));
    if (bytes == 0 || args.inputs[0] == args.outputs[0]) return Status::ok_status();
    return cuda_status(cudaMemcpyAsync(args.outputs[0], args.inputs[0], bytes, cudaMemcpyDeviceToDevice, stream_of(args)),
                       "cudaMemcpyAsync");
  });
}

}  // namespace

void register_copy_ops(AdapterTable& table) {
  const OpAdapter copy{check_copy, nullptr, prepare_copy};
  for (OpKind op : {OpKind::Identity, OpKind::Dropout, OpKind::Reshape, OpKind::Flatten, OpKind::Squeeze, OpKind::Unsqueeze}) {
    table.add(op, copy);
  }
}

}  // namespace kiln::cuda
