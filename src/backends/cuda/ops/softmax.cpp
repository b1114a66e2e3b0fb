// Softmax over the last axis (the attention-score case); other axes are left to other backends.
#include "backends/cuda/kernels/row_ops.h"
#include "backends/cuda/ops/op_adapter.h"
#include "core/broadcast.h"

namespace kiln::cuda {
namespace {

Status check_softmax(const CudaContext&, const NodeDesc& node) {
  KILN_RETURN_IF_ERROR(expect_float_io(node, 1));
  const auto rank = static_cast<int64_t>(node.inputs[0].shape.rank());
  KILN_RETURN_IF_ERROR(expect(rank >= 1, node, "a scalar input has no axis"));
  KILN_ASSIGN_OR_RETURN(const int64_t axis, normalize_axis(node.attrs().get_int("axis", -1), rank));
  KILN_RETURN_IF_ERROR(expect(axis == rank - 1, node, "only the last axis"));
  return expect(node.outputs[0].shape == node.inputs[0].shape, node, "the output shape must match the input's");
}

Result<std::unique_ptr<Kernel>> prepare_softmax(const CudaContext&, const NodeDesc& node, int32_t) {
  const Shape& shape = node.inputs[0].shape;
  const int64_t cols = shape[shape.rank() - 1];
  const int64_t rows = cols == 0 ? 0 : shape.numel() / cols;
  const DType dtype = node.inputs[0].dtype;
  return make_kernel("softmax last axis", 0, [=](const ExecuteArgs& args) {
    KILN_RETURN_IF_ERROR(expect_args(args, 1, 1));
    if (rows == 0) return Status::ok_status();
    return softmax_last_axis(dtype, args.inputs[0], args.outputs[0], rows, cols, stream_of(args));
  });
}

}  // namespace

void register_softmax_ops(AdapterTable& table) { table.add(OpKind::Softmax, {check_softmax, nullptr, prepare_softmax}); }

}  // namespace kiln::cuda
