// Concat: one strided copy per input into its slab of the output.
#include "backends/cuda/ops/concat_split_geometry.h"
#include "backends/cuda/ops/op_adapter.h"
#include "core/broadcast.h"

namespace kiln::cuda {
namespace {

Status check_concat(const CudaContext&, const NodeDesc& node) {
  KILN_RETURN_IF_ERROR(expect(!node.inputs.empty() && !node.outputs.empty(), node, "inputs and output"));
  const Shape& out = node.outputs[0].shape;
  KILN_ASSIGN_OR_RETURN(const int64_t axis, normalize_axis(node.attrs().get_int("axis", 0), static_cast<int64_t>(out.rank())));
  int64_t total = 0;
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    KILN_RETURN_IF_ERROR(expect_input(node, i));
    const Shape& in = node.inputs[i].shape;
    KILN_RETURN_IF_ERROR(expect(node.inputs[i].dtype == node.outputs[0].dtype && node.inputs[i].dtype != DType::kBytes, node, "dtypes"));
    KILN_RETURN_IF_ERROR(expect(in.rank() == out.rank(), node, "ranks differ"));
    for (size_t d = 0; d < in.rank(); ++d) {
      if (d != static_cast<size_t>(axis)) KILN_RETURN_IF_ERROR(expect(in[d] == out[d], node, "non-axis dims differ"));
    }
    total += in[static_cast<size_t>(axis)];
  }
  return expect(total == out[static_cast<size_t>(axis)], node, "the inputs do not fill the output axis");
}

Result<std::unique_ptr<Kernel>> prepare_concat(const CudaContext&, const NodeDesc& node, int32_t) {
  const Shape& out = node.outputs[0].shape;
  KILN_ASSIGN_OR_RETURN(const int64_t axis, normalize_axis(node.attrs().get_int("axis", 0), static_cast<int64_t>(out.rank())));
  std::vector<StridedCopy> copies;
  int64_t offset = 0;
  for (const TensorDesc& in : node.inputs) {
    const int64_t piece = in.shape[static_cast<size_t>(axis)];
    copies.push_back(piece_copy(out, static_cast<size_t>(axis), offset, piece, false));
    offset += piece;
  }
  const size_t element_bytes = dtype_size(node.outputs[0].dtype);
  return make_kernel("strided copy per input", 0, [=](const ExecuteArgs& args) {
    KILN_RETURN_IF_ERROR(expect_args(args, copies.size(), 1));
    for (size_t i = 0; i < copies.size(); ++i) {
      KILN_RETURN_IF_ERROR(strided_copy(element_bytes, args.inputs[i], args.outputs[0], copies[i], stream_of(args)));
    }
    return Status::ok_status();
  });
}

}  // namespace

void register_concat_ops(AdapterTable& table) { table.add(OpKind::Concat, {check_concat, nullptr, prepare_concat}); }

}  // namespace kiln::cuda
