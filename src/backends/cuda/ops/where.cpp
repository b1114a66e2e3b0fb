// Where(cond, x, y) with numpy broadcasting over all three.
#include "backends/cuda/kernels/tensor_ops.h"
#include "backends/cuda/ops/op_adapter.h"
#include "core/broadcast.h"

namespace kiln::cuda {
namespace {

Status check_where(const CudaContext&, const NodeDesc& node) {
  for (size_t i = 0; i < 3; ++i) KILN_RETURN_IF_ERROR(expect_input(node, i));
  KILN_RETURN_IF_ERROR(expect(node.inputs[0].dtype == DType::kBool, node, "the condition must be bool"));
  KILN_RETURN_IF_ERROR(expect(node.inputs[1].dtype == node.inputs[2].dtype && node.inputs[1].dtype != DType::kBytes, node, "x and y dtypes"));
  KILN_RETURN_IF_ERROR(expect(!node.outputs.empty() && node.outputs[0].dtype == node.inputs[1].dtype, node, "output dtype"));
  KILN_RETURN_IF_ERROR(expect(node.outputs[0].shape.rank() <= kMaxCopyRank, node, "rank above 8"));
  KILN_ASSIGN_OR_RETURN(const Shape xy, broadcast_shapes(node.inputs[1].shape, node.inputs[2].shape));
  KILN_ASSIGN_OR_RETURN(const Shape all, broadcast_shapes(node.inputs[0].shape, xy));
  return expect(all == node.outputs[0].shape, node, "the output shape is not the inputs' broadcast");
}

Result<std::unique_ptr<Kernel>> prepare_where(const CudaContext&, const NodeDesc& node, int32_t) {
  const Shape& out = node.outputs[0].shape;
  const std::vector<int64_t> c = broadcast_strides(node.inputs[0].shape, out);
  const std::vector<int64_t> x = broadcast_strides(node.inputs[1].shape, out);
  const std::vector<int64_t> y = broadcast_strides(node.inputs[2].shape, out);
  WhereArgs w;
  w.rank = static_cast<int>(out.rank());
  for (size_t d = 0; d < out.rank(); ++d) {
    w.dims[d] = out[d];
    w.cond_strides[d] = c[d];
    w.x_strides[d] = x[d];
    w.y_strides[d] = y[d];
  }
  const size_t element_bytes = dtype_size(node.outputs[0].dtype);
  return make_kernel("where", 0, [=](const ExecuteArgs& args) {
    KILN_RETURN_IF_ERROR(expect_args(args, 3, 1));
    WhereArgs a = w;
    a.cond = args.inputs[0];
    a.x = args.inputs[1];
    a.y = args.inputs[2];
    a.out = args.outputs[0];
    return where(element_bytes, a, stream_of(args));
  });
}

}  // namespace

void register_where_ops(AdapterTable& table) { table.add(OpKind::Where, {check_where, nullptr, prepare_where}); }

}  // namespace kiln::cuda
