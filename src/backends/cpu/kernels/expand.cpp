// Expand: the input broadcast to the (build-time static) output shape, any dtype of 1-8 bytes.
// HF BERT exports expand the token-type ids and the padding mask with it.
#include <string>

#include "backends/cpu/kernel_table.h"
#include "backends/cpu/strided_copy.h"
#include "core/broadcast.h"

namespace kiln::backends::cpu {
namespace {

bool expand_supported(const NodeDesc& node) {
  if (node.inputs.size() != 2 || node.outputs.size() != 1) return false;
  const TensorDesc& in = node.inputs[0];
  const TensorDesc& out = node.outputs[0];
  if (in.dtype != out.dtype || !strided_copy_supports(dtype_size(in.dtype))) return false;
  auto shape = broadcast_shapes(in.shape, out.shape);
  return shape.ok() && *shape == out.shape;
}

Result<std::unique_ptr<Kernel>> make_expand(const NodeDesc& node, int32_t, const CpuConfig& config) {
  const Shape& out = node.outputs[0].shape;
  auto rows = make_strided_rows<1>(out, {broadcast_strides(node.inputs[0].shape, out)});
  return std::unique_ptr<Kernel>(
      std::make_unique<StridedCopyKernel>("cpu expand", std::move(rows), dtype_size(node.inputs[0].dtype), config.threads));
}

}  // namespace

void register_expand_kernels(CpuKernelTable& table) { table.add(OpKind::Expand, {expand_supported, make_expand}); }

}  // namespace kiln::backends::cpu
