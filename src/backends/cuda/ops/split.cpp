// Split: one strided copy per output from its slab of the input. The piece sizes are the
// output shapes the builder inferred (from 'split', the split input or an even division).
#include "backends/cuda/ops/concat_split_geometry.h"
#include "backends/cuda/ops/op_adapter.h"
#include "core/broadcast.h"

namespace kiln::cuda {
namespace {

Status check_split(const CudaContext&, const NodeDesc& node) {
  KILN_RETURN_IF_ERROR(expect_input(node, 0));
  const Shape& in = node.inputs[0].shape;
  KILN_RETURN_IF_ERROR(expect(node.inputs[0].dtype != DType::kBytes, node, "string tensors"));
  KILN_ASSIGN_OR_RETURN(const int64_t axis, normalize_axis(node.attrs().get_int("axis", 0), static_cast<int64_t>(in.rank())));
  int64_t total = 0;
  for (const TensorDesc& out : node.outputs) {
    KILN_RETURN_IF_ERROR(expect(out.present() && out.dtype == node.inputs[0].dtype && out.shape.rank() == in.rank(), node, "outputs"));
    for (size_t d = 0; d < in.rank(); ++d) {
      if (d != static_cast<size_t>(axis)) KILN_RETURN_IF_ERROR(expect(out.shape[d] == in[d], node, "non-axis dims differ"));
    }
    total += out.shape[static_cast<size_t>(axis)];
  }
  return expect(total == in[static_cast<size_t>(axis)], node, "the outputs do not cover the input axis");
}

Result<std::unique_ptr<Kernel>> prepare_split(const CudaContext&, const NodeDesc& node, int32_t) {
  const Shape& in = node.inputs[0].shape;
  KILN_ASSIGN_OR_RETURN(const int64_t axis, normalize_axis(node.attrs().get_int("axis", 0), static_cast<int64_t>(in.rank())));
  std::vector<StridedCopy> copies;
  int64_t offset = 0;
  for (const TensorDesc& out : node.outputs) {
    const int64_t piece = out.shape[static_cast<size_t>(axis)];
    copies.push_back(piece_copy(in, static_cast<size_t>(axis), offset, piece, true));
    offset += piece;
  }
  const size_t element_bytes = dtype_size(node.inputs[0].dtype);
  return make_kernel("strided copy per output", 0, [=](const ExecuteArgs& args) {
    KILN_RETURN_IF_ERROR(expect_args(args, 1, copies.size()));
    for (size_t i = 0; i < copies.size(); ++i) {
      KILN_RETURN_IF_ERROR(strided_copy(element_bytes, args.inputs[0], args.outputs[i], copies[i], stream_of(args)));
    }
    return Status::ok_status();
  });
}

}  // namespace

void register_split_ops(AdapterTable& table) { table.add(OpKind::Split, {check_split, nullptr, prepare_split}); }

}  // namespace kiln::cuda
