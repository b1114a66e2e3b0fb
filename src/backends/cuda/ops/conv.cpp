// Conv and FusedConv (2-D; NCHW, or NHWC for channels_last) through cuDNN, in two kinds of
// tactics the builder times side by side:
//  - legacy API (vendor/cudnn_conv.h), one tactic per forward algorithm: relu(conv + bias + Z)
//    runs as one cudnnConvolutionBiasActivationForward; with a bias or Z and no ReLU, the same
//    call with an identity activation (one algorithm), followed by the activation, if any, in
//    place. A bare convolution offers every algorithm.
//  - graph API (vendor/cudnn_conv_graph.h), one tactic per engine configuration cuDNN's
//    heuristics offer for act(conv + bias + Z) as one operation graph; offered when cuDNN
//    builds the graph and the activation is one its pointwise operation computes (ReLU,
//    sigmoid, tanh, GELU), otherwise only the legacy tactics remain.
#include <memory>

#include "backends/cuda/device_buffer.h"
#include "backends/cuda/kernels/elementwise.h"
#include "backends/cuda/ops/fused_activation.h"
#include "backends/cuda/ops/op_adapter.h"
#include "backends/cuda/vendor/cudnn_conv.h"
#include "backends/cuda/vendor/cudnn_conv_graph.h"
#include "core/channel_block.h"
#include "core/channels_last.h"
#include "core/conv_params.h"

namespace kiln::cuda {
namespace {

constexpr size_t kSpatialRank = 2;

// Where channels and rows/columns sit in X (and, for the same layout, in W).
struct Layout4 {
  size_t c, h, w;
};
constexpr Layout4 kNchwAxes{1, 2, 3};
constexpr Layout4 kNhwcAxes{3, 1, 2};

struct ConvProblem {
  ConvConfig config;
  bool has_bias = false;
  bool has_residual = false;
  ActivationChoice activation;
};

bool is_fused(const NodeDesc& node) { return node.op != OpKind::Conv; }

Result<ConvProblem> problem_of(const CudaContext& context, const NodeDesc& node) {
  KILN_RETURN_IF_ERROR(expect_float_io(node, 2));
  const Shape& x = node.inputs[0].shape;
  const Shape& w = node.inputs[1].shape;
  KILN_RETURN_IF_ERROR(expect(node.attrs().get_int(kChannelBlockAttr, 0) == 0, node,
                              "channel_block (a CPU-backend layout; CUDA builds run channels_last)"));
  KILN_RETURN_IF_ERROR(expect(x.rank() == 4 && w.rank() == 4, node, "2-D convolutions (rank-4 X and W) only"));
  KILN_RETURN_IF_ERROR(expect(node.inputs[1].dtype == node.inputs[0].dtype, node, "X and W must share a dtype"));
  ConvProblem p;
  const Attributes& attrs = node.attrs();
  // channels_last (FusedConv only): X, Z, Y [N, H, W, C] and W [M, kH, kW, C/g].
  KILN_ASSIGN_OR_RETURN(const bool nhwc, decode_channels_last(attrs));
  KILN_RETURN_IF_ERROR(expect(!nhwc || is_fused(node), node, "channels_last on Conv (FusedConv only)"));
  const Layout4 l = nhwc ? kNhwcAxes : kNchwAxes;
  KILN_ASSIGN_OR_RETURN(const std::vector<int64_t> kernel, decode_kernel_shape(attrs, kSpatialRank, {w[l.h], w[l.w]}));
  KILN_ASSIGN_OR_RETURN(const WindowAttrs window, decode_window(attrs, kernel, false));
  KILN_ASSIGN_OR_RETURN(const AxisGeometry gh, forward_axis(window, 0, x[l.h]));
  KILN_ASSIGN_OR_RETURN(const AxisGeometry gw, forward_axis(window, 1, x[l.w]));
  KILN_RETURN_IF_ERROR(expect(gh.pad_begin == gh.pad_end && gw.pad_begin == gw.pad_end, node, "asymmetric padding"));
  ConvGeometry& g = p.config.geometry;
  g.batch = x[0];
  g.in_channels = x[l.c];
  g.in_h = x[l.h];
  g.in_w = x[l.w];
  g.out_channels = w[0];
  g.kernel_h = w[l.h];
  g.kernel_w = w[l.w];
  g.groups = attrs.get_int("group", 1);
  g.pad_h = gh.pad_begin;
  g.pad_w = gw.pad_begin;
  g.stride_h = gh.stride;
  g.stride_w = gw.stride;
  g.dilation_h = gh.dilation;
  g.dilation_w = gw.dilation;
  KILN_RETURN_IF_ERROR(expect(g.groups > 0 && w[l.c] * g.groups == g.in_channels, node, "W's channels times group must equal X's"));
  const Shape y = nhwc ? Shape{g.batch, g.out_h(), g.out_w(), g.out_channels} : Shape{g.batch, g.out_channels, g.out_h(), g.out_w()};
  KILN_RETURN_IF_ERROR(expect(node.outputs[0].shape == y, node, "the output shape does not match the convolution"));
  p.config.dtype = node.inputs[0].dtype;
  p.config.layout = nhwc ? ConvLayout::kNHWC : ConvLayout::kNCHW;  // the filter format follows
  p.config.allow_tf32 = context.options.allow_tf32 || node.allow_tf32;
  if (node.inputs.size() > 2 && node.inputs[2].present()) {
    KILN_RETURN_IF_ERROR(expect(node.inputs[2].shape.numel() == g.out_channels && node.inputs[2].dtype == p.config.dtype, node,
                                "B must hold one value per output channel in X's dtype"));
    p.has_bias = true;
  }
  if (is_fused(node)) {
    KILN_ASSIGN_OR_RETURN(p.activation, fused_activation(attrs));
    if (node.inputs.size() > 3 && node.inputs[3].present()) {
      KILN_RETURN_IF_ERROR(expect(node.inputs[3].shape == node.outputs[0].shape && node.inputs[3].dtype == p.config.dtype, node,
                                  "Z must have the output's shape and dtype"));
      p.has_residual = true;
    }
  }
  p.config.fusion = p.activation.op == UnaryOp::kRelu   ? ConvFusion::kBiasResidualRelu
                    : p.has_bias || p.has_residual      ? ConvFusion::kBiasResidual
                                                        : ConvFusion::kNone;
  return p;
}

Status check_conv(const CudaContext& context, const NodeDesc& node) { return problem_of(context, node).status(); }

// The graph-API form of the problem, or an error when its activation has no cuDNN pointwise
// equivalent (HardSwish, LeakyRelu and Clip stay with the legacy tactics).
Result<ConvGraphConfig> graph_config_of(const ConvProblem& p) {
  ConvGraphConfig g;
  g.dtype = p.config.dtype;
  g.layout = p.config.layout;
  g.geometry = p.config.geometry;
  g.allow_tf32 = p.config.allow_tf32;
  g.has_bias = p.has_bias;
  g.has_residual = p.has_residual;
  switch (p.activation.op) {
    case UnaryOp::kIdentity: g.activation = GraphActivation::kNone; break;
    case UnaryOp::kRelu: g.activation = GraphActivation::kRelu; break;
    case UnaryOp::kSigmoid: g.activation = GraphActivation::kSigmoid; break;
    case UnaryOp::kTanh: g.activation = GraphActivation::kTanh; break;
    case UnaryOp::kGeluErf: g.activation = GraphActivation::kGeluErf; break;
    case UnaryOp::kGeluTanh: g.activation = GraphActivation::kGeluTanh; break;
    default: return unimplemented("cuDNN graph API: no pointwise form of this fused activation");
  }
  return g;
}

// Legacy algorithms first (ids 0..7), then graph engines (ids from kConvGraphTacticBase). Either
// list may be empty; an error only when both are.
Result<std::vector<Tactic>> conv_tactics(const CudaContext& context, const NodeDesc& node) {
  KILN_ASSIGN_OR_RETURN(const ConvProblem p, problem_of(context, node));
  std::vector<Tactic> tactics;
  Result<std::vector<ConvAlgorithm>> algorithms = ConvPlan::algorithms(context.cudnn, p.config);
  if (algorithms.ok()) {
    for (const ConvAlgorithm& a : *algorithms) tactics.push_back({a.id, a.name});
  }
  Result<ConvGraphConfig> graph = graph_config_of(p);
  Status graph_status = graph.status();
  if (graph.ok()) {
    Result<std::vector<ConvGraphEngine>> engines = ConvGraphPlan::engines(context.cudnn, *graph);
    graph_status = engines.status();
    if (engines.ok()) {
      for (const ConvGraphEngine& e : *engines) tactics.push_back({e.tactic, e.name});
    }
  }
  if (tactics.empty()) {
    return unimplemented("Conv: neither cuDNN API offers a tactic: " + algorithms.status().to_string() + "; " + graph_status.to_string());
  }
  return tactics;
}

Result<std::unique_ptr<Kernel>> prepare_graph_conv(const CudaContext& context, const ConvProblem& p, int32_t tactic) {
  KILN_ASSIGN_OR_RETURN(const ConvGraphConfig config, graph_config_of(p));
  KILN_ASSIGN_OR_RETURN(ConvGraphPlan plan, ConvGraphPlan::create(context.cudnn, config, tactic));
  auto shared_plan = std::make_shared<const ConvGraphPlan>(std::move(plan));
  const bool has_bias = p.has_bias, has_residual = p.has_residual;
  std::string description = shared_plan->name();
  if (has_bias || has_residual || config.activation != GraphActivation::kNone) description += " fused";
  if (has_bias) description += " bias";
  if (has_residual) description += " residual";
  if (config.activation != GraphActivation::kNone) description += " activation";
  return make_kernel(description, shared_plan->workspace_bytes(), [=](const ExecuteArgs& args) {
    KILN_RETURN_IF_ERROR(expect_args(args, has_residual ? 4 : has_bias ? 3 : 2, 1));
    const void* bias = has_bias ? args.inputs[2] : nullptr;
    const void* z = has_residual ? args.inputs[3] : nullptr;
    return shared_plan->run(args.inputs[0], args.inputs[1], bias, z, args.outputs[0], args.workspace, stream_of(args));
  });
}

Result<std::unique_ptr<Kernel>> prepare_conv(const CudaContext& context, const NodeDesc& node, int32_t tactic) {
  KILN_ASSIGN_OR_RETURN(const ConvProblem p, problem_of(context, node));
  if (is_conv_graph_tactic(tactic)) return prepare_graph_conv(context, p, tactic);
  KILN_ASSIGN_OR_RETURN(ConvPlan plan, ConvPlan::create(context.cudnn, p.config, tactic));
  // cuDNN's fused call always adds a bias: give it zeros when the node has none.
  std::shared_ptr<DeviceBuffer> zero_bias;
  if (p.config.fusion != ConvFusion::kNone && !p.has_bias) {
    const size_t bytes = static_cast<size_t>(p.config.geometry.out_channels) * dtype_size(p.config.dtype);
    KILN_ASSIGN_OR_RETURN(DeviceBuffer zeros, DeviceBuffer::allocate(bytes));
    const std::vector<uint8_t> host(bytes, 0);
    KILN_RETURN_IF_ERROR(zeros.copy_from_host(host.data(), bytes));
    zero_bias = std::make_shared<DeviceBuffer>(std::move(zeros));
  }
  const bool fused = p.config.fusion != ConvFusion::kNone;
  const bool activation_after = p.config.fusion != ConvFusion::kBiasResidualRelu && p.activation.op != UnaryOp::kIdentity;
  auto shared_plan = std::make_shared<ConvPlan>(std::move(plan));
  const ConvProblem problem = p;
  const ConvGeometry& g = p.config.geometry;
  const int64_t n_out = g.batch * g.out_channels * g.out_h() * g.out_w();
  const std::string description = shared_plan->algorithm_name() + (fused ? " fused bias/residual" : "") +
                                  (p.config.fusion == ConvFusion::kBiasResidualRelu ? "/relu" : "") +
                                  (activation_after ? " + activation" : "");
  return make_kernel(description, shared_plan->workspace_bytes(), [=](const ExecuteArgs& args) {
    KILN_RETURN_IF_ERROR(expect_args(args, 2, 1));
    const void* bias = problem.has_bias ? args.inputs[2] : nullptr;
    const void* z = problem.has_residual ? args.inputs[3] : nullptr;
    const void* fused_bias = !fused ? nullptr : bias != nullptr ? bias : zero_bias->data();
    KILN_RETURN_IF_ERROR(shared_plan->run(args.inputs[0], args.inputs[1], fused_bias, z, args.outputs[0], args.workspace, stream_of(args)));
    if (!activation_after) return Status::ok_status();
    return unary_elementwise(problem.activation.op, problem.config.dtype, args.outputs[0], args.outputs[0], n_out, stream_of(args),
                             problem.activation.params);
  });
}

}  // namespace

void register_conv_ops(AdapterTable& table) {
  const OpAdapter conv{check_conv, conv_tactics, prepare_conv};
  table.add(OpKind::Conv, conv);
  table.add_by_name("FusedConv", conv);
}

}  // namespace kiln::cuda
