// LayerNormalization over the trailing axes from 'axis' (statistics in FP32). The Mean and
// InvStdDev outputs (training only) are not produced.
#include "backends/cuda/kernels/row_ops.h"
#include "backends/cuda/ops/op_adapter.h"
#include "core/norm_params.h"

namespace kiln::cuda {
namespace {

constexpr float kDefaultEpsilon = 1e-5f;

Status check_layer_norm(const CudaContext&, const NodeDesc& node) {
  KILN_RETURN_IF_ERROR(expect_float_io(node, 2));
  KILN_RETURN_IF_ERROR(expect_single_output(node));
  const Shape& x = node.inputs[0].shape;
  KILN_ASSIGN_OR_RETURN(const size_t axis, layer_norm_first_axis(node.attrs(), x.rank()));
  int64_t cols = 1;
  for (size_t d = axis; d < x.rank(); ++d) cols *= x[d];
  for (size_t i = 1; i < 3 && i < node.inputs.size(); ++i) {
    if (!node.inputs[i].present()) continue;
    KILN_RETURN_IF_ERROR(expect(node.inputs[i].dtype == node.inputs[0].dtype, node, "scale and bias must have the input's dtype"));
    KILN_RETURN_IF_ERROR(expect(node.inputs[i].shape.numel() == cols, node, "scale and bias must cover the normalized axes"));
  }
  KILN_RETURN_IF_ERROR(expect(cols > 0, node, "empty normalized axes"));
  return expect(node.outputs[0].shape == x, node, "the output shape must match the input's");
}

Result<std::unique_ptr<Kernel>> prepare_layer_norm(const CudaContext&, const NodeDesc& node, int32_t) {
  const Shape& x = node.inputs[0].shape;
  KILN_ASSIGN_OR_RETURN(const size_t axis, layer_norm_first_axis(node.attrs(), x.rank()));
  int64_t cols = 1;
  for (size_t d = axis; d < x.rank(); ++d) cols *= x[d];
  const int64_t rows = x.numel() / cols;
  const bool has_bias = node.inputs.size() > 2 && node.inputs[2].present();
  const float epsilon = node.attrs().get_float("epsilon", kDefaultEpsilon);
  const DType dtype = node.inputs[0].dtype;
  return make_kernel("layer norm last axes", 0, [=](const ExecuteArgs& args) {
    KILN_RETURN_IF_ERROR(expect_args(args, has_bias ? 3 : 2, 1));
    if (rows == 0) return Status::ok_status();
    LayerNormArgs a;
    a.x = args.inputs[0];
    a.gamma = args.inputs[1];
    a.beta = has_bias ? args.inputs[2] : nullptr;
    a.y = args.outputs[0];
    a.rows = rows;
    a.cols = cols;
    a.epsilon = epsilon;
    return layer_norm_last_axis(dtype, a, stream_of(args));
  });
}

}  // namespace

void register_layer_norm_ops(AdapterTable& table) {
  table.add(OpKind::LayerNormalization, {check_layer_norm, nullptr, prepare_layer_norm});
}

}  // namespace kiln::cuda
