// Cast between float32, float16, bfloat16, int64, int32 and bool.
#include "backends/cuda/kernels/tensor_ops.h"
#include "backends/cuda/ops/op_adapter.h"

namespace kiln::cuda {
namespace {

Status check_cast(const CudaContext&, const NodeDesc& node) {
  KILN_RETURN_IF_ERROR(expect_input(node, 0));
  KILN_RETURN_IF_ERROR(expect(!node.outputs.empty() && node.outputs[0].present(), node, "output 0 is missing"));
  KILN_RETURN_IF_ERROR(expect(node.outputs[0].shape == node.inputs[0].shape, node, "output shape"));
  return expect(cast_supports(node.inputs[0].dtype, node.outputs[0].dtype), node,
                std::string(dtype_name(node.inputs[0].dtype)) + " -> " + std::string(dtype_name(node.outputs[0].dtype)));
}

Result<std::unique_ptr<Kernel>> prepare_cast(const CudaContext&, const NodeDesc& node, int32_t) {
  const DType from = node.inputs[0].dtype, to = node.outputs[0].dtype;
  const int64_t n = node.inputs[0].shape.numel();
  return make_kernel("cast", 0, [=](const ExecuteArgs& args) {
    KILN_RETURN_IF_ERROR(expect_args(args, 1, 1));
    return cast(from, to, args.inputs[0], args.outputs[0], n, stream_of(args));
  });
}

}  // namespace

void register_cast_ops(AdapterTable& table) { table.add(OpKind::Cast, {check_cast, nullptr, prepare_cast}); }

}  // namespace kiln::cuda
