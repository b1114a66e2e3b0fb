// Transpose with any permutation up to rank 6, as a strided copy.
#include "backends/cuda/kernels/tensor_ops.h"
#include "backends/cuda/ops/op_adapter.h"

namespace kiln::cuda {
namespace {

constexpr size_t kMaxTransposeRank = 6;

Result<std::vector<int64_t>> permutation(const NodeDesc& node) {
  const size_t rank = node.inputs[0].shape.rank();
  std::vector<int64_t> perm = node.attrs().get_ints("perm");
  if (perm.empty()) {
    for (size_t d = 0; d < rank; ++d) perm.push_back(static_cast<int64_t>(rank - 1 - d));
  }
  KILN_RETURN_IF_ERROR(expect(perm.size() == rank, node, "perm must list every axis"));
  std::vector<bool> seen(rank, false);
  for (int64_t p : perm) {
    if (p < 0 || p >= static_cast<int64_t>(rank) || seen[static_cast<size_t>(p)]) {
      return invalid_argument("Transpose: perm is not a permutation of the axes");
    }
    seen[static_cast<size_t>(p)] = true;
  }
  return perm;
}

Status check_transpose(const CudaContext&, const NodeDesc& node) {
  KILN_RETURN_IF_ERROR(expect_input(node, 0));
  KILN_RETURN_IF_ERROR(expect(node.inputs[0].dtype != DType::kBytes, node, "string tensors"));
  KILN_RETURN_IF_ERROR(expect(node.inputs[0].shape.rank() <= kMaxTransposeRank, node, "rank above 6"));
  KILN_ASSIGN_OR_RETURN(const std::vector<int64_t> perm, permutation(node));
  std::vector<int64_t> dims;
  for (int64_t p : perm) dims.push_back(node.inputs[0].shape[static_cast<size_t>(p)]);
  return expect(!node.outputs.empty() && node.outputs[0].shape == Shape(dims) && node.outputs[0].dtype == node.inputs[0].dtype, node,
                "output shape or dtype");
}

Result<std::unique_ptr<Kernel>> prepare_transpose(const CudaContext&, const NodeDesc& node, int32_t) {
  KILN_ASSIGN_OR_RETURN(const std::vector<int64_t> perm, permutation(node));
  const Shape& in = node.inputs[0].shape;
  const std::vector<int64_t> in_strides = contiguous_strides(in);
  StridedCopy copy;
  copy.rank = static_cast<int>(perm.size());
  int64_t stride = 1;
  for (int d = copy.rank - 1; d >= 0; --d) {
    const auto axis = static_cast<size_t>(perm[static_cast<size_t>(d)]);
    copy.dims[d] = in[axis];
    copy.src_strides[d] = in_strides[axis];
    copy.dst_strides[d] = stride;
    stride *= in[axis];
  }
  const size_t element_bytes = dtype_size(node.inputs[0].dtype);
  return make_kernel("strided copy", 0, [=](const ExecuteArgs& args) {
    KILN_RETURN_IF_ERROR(expect_args(args, 1, 1));
    return strided_copy(element_bytes, args.inputs[0], args.outputs[0], copy, stream_of(args));
  });
}

}  // namespace

void register_transpose_ops(AdapterTable& table) { table.add(OpKind::Transpose, {check_transpose, nullptr, prepare_transpose}); }

}  // namespace kiln::cuda
