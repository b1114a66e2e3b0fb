// MaxPool and AveragePool (2-D, NCHW or channels_last NHWC, symmetric padding, no dilation)
// through cuDNN; GlobalAveragePool as a row mean over H*W (channels_last: cuDNN NHWC pooling).
#include <memory>

#include "backends/cuda/kernels/row_ops.h"
#include "backends/cuda/ops/op_adapter.h"
#include "backends/cuda/vendor/cudnn_pool.h"
#include "core/channels_last.h"
#include "core/conv_params.h"

namespace kiln::cuda {
namespace {

constexpr size_t kSpatialRank = 2;

// Where channels and rows/columns sit in X: NCHW, or NHWC for channels_last.
struct Layout4 {
  size_t c, h, w;
};
constexpr Layout4 kNchwAxes{1, 2, 3};
constexpr Layout4 kNhwcAxes{3, 1, 2};

Shape output_shape(const PoolConfig& c) {
  return c.layout == ConvLayout::kNHWC ? Shape{c.batch, c.out_h(), c.out_w(), c.channels}
                                       : Shape{c.batch, c.channels, c.out_h(), c.out_w()};
}

Result<PoolConfig> pool_config(const NodeDesc& node) {
  KILN_RETURN_IF_ERROR(expect_float_io(node, 1));
  KILN_RETURN_IF_ERROR(expect_single_output(node));
  const Shape& x = node.inputs[0].shape;
  KILN_RETURN_IF_ERROR(expect(x.rank() == 4, node, "2-D pooling (rank-4 X) only"));
  const Attributes& attrs = node.attrs();
  KILN_ASSIGN_OR_RETURN(const bool nhwc, decode_channels_last(attrs));
  const Layout4 l = nhwc ? kNhwcAxes : kNchwAxes;
  KILN_ASSIGN_OR_RETURN(const std::vector<int64_t> kernel, decode_kernel_shape(attrs, kSpatialRank, {}));
  KILN_ASSIGN_OR_RETURN(const WindowAttrs window, decode_window(attrs, kernel, true));
  KILN_ASSIGN_OR_RETURN(const AxisGeometry gh, forward_axis(window, 0, x[l.h]));
  KILN_ASSIGN_OR_RETURN(const AxisGeometry gw, forward_axis(window, 1, x[l.w]));
  KILN_RETURN_IF_ERROR(expect(gh.dilation == 1 && gw.dilation == 1, node, "dilated pooling"));
  KILN_RETURN_IF_ERROR(expect(gh.pad_begin == gh.pad_end && gw.pad_begin == gw.pad_end, node, "asymmetric padding"));
  KILN_RETURN_IF_ERROR(expect(attrs.get_int("storage_order", 0) == 0, node, "column-major storage_order"));
  PoolConfig c;
  c.dtype = node.inputs[0].dtype;
  c.layout = nhwc ? ConvLayout::kNHWC : ConvLayout::kNCHW;
  c.batch = x[0];
  c.channels = x[l.c];
  c.in_h = x[l.h];
  c.in_w = x[l.w];
  c.window_h = gh.kernel;
  c.window_w = gw.kernel;
  c.pad_h = gh.pad_begin;
  c.pad_w = gw.pad_begin;
  c.stride_h = gh.stride;
  c.stride_w = gw.stride;
  if (node.op == OpKind::MaxPool) {
    c.mode = PoolMode::kMax;
  } else {
    c.mode = attrs.get_int("count_include_pad", 0) != 0 ? PoolMode::kAverageIncludePad : PoolMode::kAverageExcludePad;
  }
  // ceil_mode is fine where it gives the floor size (cuDNN's only rounding).
  KILN_RETURN_IF_ERROR(expect(c.out_h() == gh.output && c.out_w() == gw.output, node, "ceil_mode that changes the output size"));
  KILN_RETURN_IF_ERROR(expect(node.outputs[0].shape == output_shape(c), node, "output shape"));
  return c;
}

Status check_pool(const CudaContext&, const NodeDesc& node) { return pool_config(node).status(); }

Result<std::unique_ptr<Kernel>> prepare_pool_plan(const CudaContext& context, const PoolConfig& config) {
  KILN_ASSIGN_OR_RETURN(PoolPlan plan, PoolPlan::create(context.cudnn, config));
  auto shared_plan = std::make_shared<PoolPlan>(std::move(plan));
  return make_kernel("cudnn pooling", 0, [=](const ExecuteArgs& args) {
    KILN_RETURN_IF_ERROR(expect_args(args, 1, 1));
    return shared_plan->run(args.inputs[0], args.outputs[0], stream_of(args));
  });
}

Result<std::unique_ptr<Kernel>> prepare_pool(const CudaContext& context, const NodeDesc& node, int32_t) {
  KILN_ASSIGN_OR_RETURN(const PoolConfig config, pool_config(node));
  return prepare_pool_plan(context, config);
}

// channels_last GlobalAveragePool: the plane mean per channel is strided in NHWC, which the row
// mean cannot read; cuDNN's NHWC average pooling with one window over the plane does it.
Result<PoolConfig> global_average_nhwc_config(const NodeDesc& node) {
  const Shape& x = node.inputs[0].shape;
  KILN_RETURN_IF_ERROR(expect(x.rank() == 4, node, "channels_last needs a rank-4 X"));
  PoolConfig c;
  c.dtype = node.inputs[0].dtype;
  c.layout = ConvLayout::kNHWC;
  c.mode = PoolMode::kAverageExcludePad;
  c.batch = x[0];
  c.channels = x[kNhwcAxes.c];
  c.in_h = c.window_h = x[kNhwcAxes.h];
  c.in_w = c.window_w = x[kNhwcAxes.w];
  KILN_RETURN_IF_ERROR(expect(c.in_h > 0 && c.in_w > 0, node, "an empty plane"));
  KILN_RETURN_IF_ERROR(expect(node.outputs[0].shape == output_shape(c), node, "output shape"));
  return c;
}

Status check_global_average(const CudaContext&, const NodeDesc& node) {
  KILN_RETURN_IF_ERROR(expect_float_io(node, 1));
  KILN_ASSIGN_OR_RETURN(const bool nhwc, decode_channels_last(node.attrs()));
  if (nhwc) return global_average_nhwc_config(node).status();
  const Shape& x = node.inputs[0].shape;
  KILN_RETURN_IF_ERROR(expect(x.rank() >= 3, node, "input of rank 3 or more"));
  return expect(node.outputs[0].shape.numel() == x[0] * x[1], node, "output shape");
}

Result<std::unique_ptr<Kernel>> prepare_global_average(const CudaContext& context, const NodeDesc& node, int32_t) {
  KILN_ASSIGN_OR_RETURN(const bool nhwc, decode_channels_last(node.attrs()));
  if (nhwc) {
    KILN_ASSIGN_OR_RETURN(const PoolConfig config, global_average_nhwc_config(node));
    return prepare_pool_plan(context, config);
  }
  const Shape& x = node.inputs[0].shape;
  const int64_t rows = x[0] * x[1];
  const int64_t cols = rows == 0 ? 0 : x.numel() / rows;
  const DType dtype = node.inputs[0].dtype;
  return make_kernel("row mean", 0, [=](const ExecuteArgs& args) {
    KILN_RETURN_IF_ERROR(expect_args(args, 1, 1));
    if (rows == 0) return Status::ok_status();
    return row_mean(dtype, args.inputs[0], args.outputs[0], rows, cols, stream_of(args));
  });
}

}  // namespace

void register_pool_ops(AdapterTable& table) {
  table.add(OpKind::MaxPool, {check_pool, nullptr, prepare_pool});
  table.add(OpKind::AveragePool, {check_pool, nullptr, prepare_pool});
  table.add(OpKind::GlobalAveragePool, {check_global_average, nullptr, prepare_global_average});
}

}  // namespace kiln::cuda
