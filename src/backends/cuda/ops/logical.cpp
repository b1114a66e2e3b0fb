// And / Or on bool tensors with numpy broadcasting, as selections: And(a, b) = a ? b : a and
// Or(a, b) = a ? a : b, so the Where kernel does the broadcasting and no constant is needed.
// (Attention-mask preparation in exported transformers is made of these.)
#include "backends/cuda/kernels/tensor_ops.h"
#include "backends/cuda/ops/op_adapter.h"
#include "core/broadcast.h"

namespace kiln::cuda {
namespace {

Status check_logical(const CudaContext&, const NodeDesc& node) {
  for (size_t i = 0; i < 2; ++i) KILN_RETURN_IF_ERROR(expect_input(node, i));
  KILN_RETURN_IF_ERROR(expect(node.inputs[0].dtype == DType::kBool && node.inputs[1].dtype == DType::kBool, node,
                              "And/Or take bool inputs"));
  KILN_RETURN_IF_ERROR(expect(!node.outputs.empty() && node.outputs[0].dtype == DType::kBool, node, "output dtype"));
  KILN_RETURN_IF_ERROR(expect(node.outputs[0].shape.rank() <= kMaxCopyRank, node, "rank above 8"));
  KILN_ASSIGN_OR_RETURN(const Shape all, broadcast_shapes(node.inputs[0].shape, node.inputs[1].shape));
  return expect(all == node.outputs[0].shape, node, "the output shape is not the inputs' broadcast");
}

Result<std::unique_ptr<Kernel>> prepare_logical(const CudaContext&, const NodeDesc& node, int32_t) {
  const Shape& out = node.outputs[0].shape;
  const std::vector<int64_t> a = broadcast_strides(node.inputs[0].shape, out);
  const std::vector<int64_t> b = broadcast_strides(node.inputs[1].shape, out);
  const bool is_and = node.op == OpKind::And;
  WhereArgs w;
  w.rank = static_cast<int>(out.rank());
  for (size_t d = 0; d < out.rank(); ++d) {
    w.dims[d] = out[d];
    w.cond_strides[d] = a[d];
    w.x_strides[d] = is_and ? b[d] : a[d];
    w.y_strides[d] = is_and ? a[d] : b[d];
  }
  return make_kernel(is_and ? "and as where" : "or as where", 0, [=](const ExecuteArgs& args) {
    KILN_RETURN_IF_ERROR(expect_args(args, 2, 1));
    WhereArgs s = w;
    s.cond = args.inputs[0];
    s.x = is_and ? args.inputs[1] : args.inputs[0];
    s.y = is_and ? args.inputs[0] : args.inputs[1];
    s.out = args.outputs[0];
    return where(1, s, stream_of(args));
  });
}

}  // namespace

void register_logical_ops(AdapterTable& table) {
  table.add(OpKind::And, {check_logical, nullptr, prepare_logical});
  table.add(OpKind::Or, {check_logical, nullptr, prepare_logical});
}

}  // namespace kiln::cuda
