// Conv and FusedConv (act(conv(X, W) + B + Z), docs/fused-ops.md) through oneDNN: bias in the
// primitive, the residual Z as a sum post-op, the activation as an eltwise post-op. Weights are
// reordered once at prepare time into the layout the chosen oneDNN implementation wants.
//
// Tactics (the builder times both per node):
//   0 plain:   X and Y stay in the graph's layout (NCHW, or NHWC for channels_last nodes, which
//              oneDNN's direct/brgemm convolutions run without reorders); oneDNN runs on them.
//   1 blocked: X is reordered into oneDNN's preferred (channel-blocked) layout, the convolution
//              runs there and Y is reordered back. Pays where the blocked implementation beats
//              the plain one by more than the two reorders cost (most 3x3 and 1x1 layers with
//              many channels).
//   2 winograd: as blocked, with oneDNN's Winograd convolution (F(2x2,3x3) or F(4x4,3x3) tiles)
//              for 3x3 stride-1 layers: 2.25-4x fewer multiplies than the direct algorithm at
//              FP32 rounding error a few times larger (still well inside the GEMM tolerance).
//              Offered only where oneDNN has a Winograd implementation for the shape.
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

#include "backends/cpu/kernel_table.h"
#include "backends/cpu/onednn.h"
#include "backends/cpu/parallel.h"
#include "backends/cpu/workspace.h"
#include "core/channel_block.h"
#include "core/channels_last.h"
#include "core/conv_params.h"

namespace kiln::backends::cpu {
namespace {

enum ConvInput : size_t { kX = 0, kW = 1, kBias = 2, kResidual = 3 };
enum ConvTactic : int32_t { kPlain = 0, kBlocked = 1, kWinograd = 2 };
constexpr size_t kMinSpatial = 1, kMaxSpatial = 3;

struct ConvGeometry {
  int64_t group = 1;
  dnnl::memory::dims src, weights, bias, dst, strides, dilates, pad_l, pad_r;
  dnnl::memory::format_tag activation_tag{}, weights_tag{};
};

dnnl::memory::format_tag activation_tag(size_t spatial) {
  using T = dnnl::memory::format_tag;
  return spatial == 1 ? T::ncw : spatial == 2 ? T::nchw : T::ncdhw;
}

dnnl::memory::format_tag weights_tag(size_t spatial, bool grouped) {
  using T = dnnl::memory::format_tag;
  if (grouped) return spatial == 1 ? T::goiw : spatial == 2 ? T::goihw : T::goidhw;
  return spatial == 1 ? T::oiw : spatial == 2 ? T::oihw : T::oidhw;
}

// oneDNN describes tensors by logical NCHW dims plus a format tag, so a channels_last node
// keeps its NHWC memory and only the dims are permuted (X, Z, Y [N,H,W,C]; W [M,kH,kW,C/g]),
// and a channel_block node its nChw16c memory (X, Z, Y [N,C/16,H,W,16]; W [M,C,kH,kW]).
Result<ConvGeometry> conv_geometry(const NodeDesc& node) {
  if (node.inputs.size() < 2 || node.outputs.empty()) return invalid_argument("Conv needs X, W and one output");
  KILN_ASSIGN_OR_RETURN(const bool nhwc, decode_channels_last(node.attrs()));
  KILN_ASSIGN_OR_RETURN(const int64_t block, decode_channel_block(node.attrs()));
  if (nhwc && (node.inputs[kX].shape.rank() != kChannelsLastRank || node.inputs[kW].shape.rank() != kChannelsLastRank))
    return invalid_argument("Conv: channels_last needs rank-4 X and W");
  const bool blocked = block != 0;
  if (blocked && (nhwc || node.op != OpKind::FusedConv || node.inputs[kX].shape.rank() != kChannelBlockedRank ||
                  node.inputs[kX].shape[4] != kChannelBlock || node.outputs[0].shape.rank() != kChannelBlockedRank ||
                  node.inputs[kW].shape.rank() != kChannelsLastRank))
    return invalid_argument("Conv: channel_block needs a FusedConv with [N, C/16, H, W, 16] X and Y and a 2-D W");
  const Shape x = nhwc      ? channels_first_shape(node.inputs[kX].shape)
                  : blocked ? channel_unblocked_shape(node.inputs[kX].shape)
                            : node.inputs[kX].shape;
  const Shape w = nhwc ? channels_first_shape(node.inputs[kW].shape) : node.inputs[kW].shape;
  if (x.rank() < kMinSpatial + 2 || x.rank() > kMaxSpatial + 2 || w.rank() != x.rank())
    return unimplemented("Conv: X " + x.to_string() + " and W " + w.to_string() + " must both have 1-3 spatial axes");
  const size_t spatial = x.rank() - 2;
  ConvGeometry g;
  g.group = node.attrs().get_int("group", 1);
  if (g.group < 1 || w[0] % g.group != 0 || x[1] != w[1] * g.group)
    return invalid_argument("Conv: channels of X " + x.to_string() + " and W " + w.to_string() + " do not match group " +
                            std::to_string(g.group));
  std::vector<int64_t> weight_kernel(w.dims().begin() + 2, w.dims().end());
  KILN_ASSIGN_OR_RETURN(auto kernel, decode_kernel_shape(node.attrs(), spatial, weight_kernel));
  KILN_ASSIGN_OR_RETURN(auto window, decode_window(node.attrs(), kernel, false));
  std::vector<int64_t> out{x[0], w[0]};
  for (size_t a = 0; a < spatial; ++a) {
    KILN_ASSIGN_OR_RETURN(auto axis, forward_axis(window, a, x[2 + a]));
    out.push_back(axis.output);
    g.strides.push_back(axis.stride);
    g.dilates.push_back(axis.dilation - 1);  // oneDNN counts the gaps, ONNX the step
    g.pad_l.push_back(axis.pad_begin);
    g.pad_r.push_back(axis.pad_end);
  }
  const Shape y = nhwc      ? channels_first_shape(node.outputs[0].shape)
                  : blocked ? channel_unblocked_shape(node.outputs[0].shape)
                            : node.outputs[0].shape;
  if (Shape(out) != y)
    return invalid_argument("Conv: output " + node.outputs[0].shape.to_string() + " does not match the convolution");
  g.src = to_dims(x.dims());
  g.dst = to_dims(out);
  g.weights = to_dims(w.dims());
  if (g.group > 1) {
    g.weights[0] = w[0] / g.group;
    g.weights.insert(g.weights.begin(), g.group);
  }
  g.bias = {w[0]};
  using T = dnnl::memory::format_tag;
  g.activation_tag = nhwc ? T::nhwc : blocked ? T::nChw16c : activation_tag(spatial);
  g.weights_tag = nhwc ? (g.group > 1 ? T::gohwi : T::ohwi) : weights_tag(spatial, g.group > 1);
  return g;
}

bool is_float(const TensorDesc& t) { return t.dtype == DType::kFloat32; }

bool conv_supported(const NodeDesc& node) {
  if (node.inputs.size() < 2 || node.outputs.empty() || !is_float(node.inputs[kX]) || !is_float(node.inputs[kW]) ||
      !is_float(node.outputs[0]) || !node.constant(kW))
    return false;
  if (node.inputs.size() > kBias && node.inputs[kBias].present() &&
      (!is_float(node.inputs[kBias]) || node.inputs[kBias].shape != Shape{node.inputs[kW].shape[0]}))
    return false;
  if (node.inputs.size() > kResidual && node.inputs[kResidual].present() &&
      (!is_float(node.inputs[kResidual]) || node.inputs[kResidual].shape != node.outputs[0].shape))
    return false;
  for (size_t i = 1; i < node.outputs.size(); ++i)
    if (node.outputs[i].present()) return false;
  return activation_supported(node.attrs()) && conv_geometry(node).ok();
}

bool winograd_shaped(const NodeDesc& node, const ConvGeometry& g) {
  const dnnl::memory::dims& w = g.weights;
  if (g.group != 1 || w.size() != 4 || w[2] != 3 || w[3] != 3) return false;
  for (size_t a = 0; a < g.strides.size(); ++a)
    if (g.strides[a] != 1 || g.dilates[a] != 0) return false;
  return activation_supported(node.attrs());
}

bool winograd_available(const NodeDesc& node);

std::vector<Tactic> conv_tactics(const NodeDesc& node) {
  std::vector<Tactic> tactics = {{kPlain, "onednn plain"}, {kBlocked, "onednn blocked"}};
  if (winograd_available(node)) tactics.push_back({kWinograd, "onednn winograd"});
  return tactics;
}

bool has_input(const NodeDesc& node, size_t i) { return node.inputs.size() > i && node.inputs[i].present(); }

// Bias in the primitive, residual as a sum post-op, then the activation; user scratchpad so the
// plan's workspace holds it.
dnnl::convolution_forward::primitive_desc conv_primitive_desc(const NodeDesc& node, const ConvGeometry& g,
                                                              dnnl::algorithm algorithm, const dnnl::memory::desc& src_md,
                                                              const dnnl::memory::desc& dst_md, bool with_bias) {
  using md = dnnl::memory::desc;
  using dt = dnnl::memory::data_type;
  using tag = dnnl::memory::format_tag;
  const md weights_any(g.weights, dt::f32, tag::any);
  const md bias_md(g.bias, dt::f32, tag::x);
  dnnl::post_ops ops;
  if (has_input(node, kResidual)) ops.append_sum(1.0f);
  // supports() checked the activation; a failure here is a kiln bug.
  if (!append_activation(node.attrs(), ops).ok()) throw dnnl::error(dnnl_unimplemented, "activation");
  dnnl::primitive_attr attr;
  attr.set_post_ops(ops);
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  const auto kind = dnnl::prop_kind::forward_inference;
  const dnnl::convolution_forward::desc desc =
      with_bias ? dnnl::convolution_forward::desc(kind, algorithm, src_md, weights_any, bias_md, dst_md, g.strides,
                                                  g.dilates, g.pad_l, g.pad_r)
                : dnnl::convolution_forward::desc(kind, algorithm, src_md, weights_any, dst_md, g.strides, g.dilates,
                                                  g.pad_l, g.pad_r);
  return {desc, attr, cpu_engine()};
}

// oneDNN implements Winograd only for some shapes and ISAs: offer the tactic where it can make one.
bool winograd_available(const NodeDesc& node) {
  auto g = conv_geometry(node);
  if (!g.ok() || !winograd_shaped(node, *g)) return false;
  using md = dnnl::memory::desc;
  using dt = dnnl::memory::data_type;
  using tag = dnnl::memory::format_tag;
  return onednn_call("winograd probe", [&] {
           conv_primitive_desc(node, *g, dnnl::algorithm::convolution_winograd, md(g->src, dt::f32, tag::any),
                               md(g->dst, dt::f32, tag::any), has_input(node, kBias));
         }).ok();
}

class ConvKernel final : public Kernel {
 public:
  static Result<std::unique_ptr<Kernel>> make(const NodeDesc& node, int32_t tactic, const CpuConfig& config) {
    if (tactic != kPlain && tactic != kBlocked && tactic != kWinograd)
      return invalid_argument("Conv: unknown tactic " + std::to_string(tactic));
    KILN_ASSIGN_OR_RETURN(ConvGeometry g, conv_geometry(node));
    if (tactic == kWinograd && !winograd_shaped(node, g))
      return invalid_argument("Conv: Winograd needs a 3x3, stride-1, undilated, ungrouped 2-D convolution");
    auto kernel = std::unique_ptr<ConvKernel>(new ConvKernel());
    kernel->threads_ = config.threads;
    kernel->blocked_ = tactic != kPlain;
    kernel->winograd_ = tactic == kWinograd;
    kernel->has_bias_ = has_input(node, kBias);
    kernel->has_residual_ = has_input(node, kResidual);
    KILN_RETURN_IF_ERROR(onednn_call("convolution setup", [&] { kernel->build(node, g); }));
    return std::unique_ptr<Kernel>(std::move(kernel));
  }

  size_t workspace_bytes() const override { return workspace_.total(); }

  std::string describe() const override {
    return std::string("onednn ") + (winograd_ ? "winograd " : blocked_ ? "blocked " : "plain ") + impl_;
  }

  Status execute(const ExecuteArgs& args) const override {
    use_threads(threads_);
    return onednn_call("convolution", [&] { run(args); });
  }

 private:
  ConvKernel() = default;

  void build(const NodeDesc& node, const ConvGeometry& g) {
    using md = dnnl::memory::desc;
    using dt = dnnl::memory::data_type;
    using tag = dnnl::memory::format_tag;
    use_threads(threads_);
    const auto& engine = cpu_engine();
    user_src_ = md(g.src, dt::f32, g.activation_tag);
    user_dst_ = md(g.dst, dt::f32, g.activation_tag);
    const md bias_md(g.bias, dt::f32, tag::x);
    const md src_md = blocked_ ? md(g.src, dt::f32, tag::any) : user_src_;
    const md dst_md = blocked_ ? md(g.dst, dt::f32, tag::any) : user_dst_;

    const dnnl::convolution_forward::primitive_desc pd =
        conv_primitive_desc(node, g, winograd_ ? dnnl::algorithm::convolution_winograd : dnnl::algorithm::convolution_direct,
                            src_md, dst_md, has_bias_);
    impl_ = pd.impl_info_str();
    conv_ = dnnl::convolution_forward(pd);
    src_ = pd.src_desc();
    dst_ = pd.dst_desc();

    // Weights: reordered once, owned by the kernel. oneDNN reorders into the Winograd weight
    // format only from the plain OIHW order, so channels_last weights go through it first.
    const Tensor* w = node.constant(kW);
    dnnl::memory user_weights(md(g.weights, dt::f32, g.weights_tag), engine, const_cast<void*>(w->raw_data()));
    if (winograd_ && g.weights_tag != tag::oihw) {
      dnnl::memory oihw(md(g.weights, dt::f32, tag::oihw), engine);
      dnnl::reorder(user_weights, oihw).execute(thread_stream(), user_weights, oihw);
      thread_stream().wait();
      user_weights = oihw;
    }
    weights_ = dnnl::memory(pd.weights_desc(), engine);
    dnnl::reorder(user_weights, weights_).execute(thread_stream(), user_weights, weights_);
    if (has_bias_ && node.constant(kBias)) {
      bias_ = dnnl::memory(bias_md, engine);
      std::memcpy(bias_.get_data_handle(), node.constant(kBias)->raw_data(), node.constant(kBias)->nbytes());
    }
    bias_desc_ = bias_md;
    thread_stream().wait();

    scratchpad_offset_ = workspace_.add(pd.scratchpad_desc().get_size());
    scratchpad_desc_ = pd.scratchpad_desc();
    if (src_ != user_src_) {
      src_offset_ = workspace_.add(src_.get_size());
      src_reorder_ = dnnl::reorder(dnnl::reorder::primitive_desc(engine, user_src_, engine, src_));
    }
    if (dst_ != user_dst_) {
      dst_offset_ = workspace_.add(dst_.get_size());
      dst_reorder_ = dnnl::reorder(dnnl::reorder::primitive_desc(engine, dst_, engine, user_dst_));
      if (has_residual_)
        residual_reorder_ = dnnl::reorder(dnnl::reorder::primitive_desc(engine, user_dst_, engine, dst_));
    }
  }

  void run(const ExecuteArgs& args) const {
    const auto& engine = cpu_engine();
    dnnl::stream& stream = thread_stream();
    auto* workspace = args.workspace;
    dnnl::memory user_src(user_src_, engine, const_cast<void*>(args.inputs[kX]));
    dnnl::memory user_dst(user_dst_, engine, args.outputs[0]);
    dnnl::memory src = user_src;
    dnnl::memory dst = user_dst;
    if (src_reorder_) {
      src = dnnl::memory(src_, engine, workspace_at(workspace, src_offset_));
      src_reorder_.execute(stream, user_src, src);
    }
    if (dst_reorder_) dst = dnnl::memory(dst_, engine, workspace_at(workspace, dst_offset_));
    if (has_residual_) {
      const void* residual = args.inputs[kResidual];
      if (residual_reorder_) {
        dnnl::memory user_residual(user_dst_, engine, const_cast<void*>(residual));
        residual_reorder_.execute(stream, user_residual, dst);
      } else if (residual != args.outputs[0]) {
        copy_parallel(args.outputs[0], residual, user_dst_.get_size());
      }
    }
    std::unordered_map<int, dnnl::memory> conv_args{
        {DNNL_ARG_SRC, src},
        {DNNL_ARG_WEIGHTS, weights_},
        {DNNL_ARG_DST, dst},
        {DNNL_ARG_SCRATCHPAD, dnnl::memory(scratchpad_desc_, engine, workspace_at(workspace, scratchpad_offset_))}};
    if (has_bias_)
      conv_args[DNNL_ARG_BIAS] =
          bias_ ? bias_ : dnnl::memory(bias_desc_, engine, const_cast<void*>(args.inputs[kBias]));
    conv_.execute(stream, conv_args);
    if (dst_reorder_) dst_reorder_.execute(stream, dst, user_dst);
    stream.wait();
  }

  void copy_parallel(void* to, const void* from, size_t bytes) const {
    constexpr int64_t kChunk = 1 << 16;
    const int64_t chunks = static_cast<int64_t>((bytes + kChunk - 1) / kChunk);
    parallel_for(chunks, 4, threads_, [&](int64_t begin, int64_t end) {
      const size_t first = static_cast<size_t>(begin * kChunk);
      const size_t last = std::min(bytes, static_cast<size_t>(end * kChunk));
      std::memcpy(static_cast<std::byte*>(to) + first, static_cast<const std::byte*>(from) + first, last - first);
    });
  }

  int threads_ = 1;
  bool winograd_ = false;
  bool blocked_ = false, has_bias_ = false, has_residual_ = false;
  std::string impl_;
  dnnl::convolution_forward conv_;
  dnnl::reorder src_reorder_, dst_reorder_, residual_reorder_;
  dnnl::memory::desc user_src_, user_dst_, src_, dst_, scratchpad_desc_, bias_desc_;
  dnnl::memory weights_, bias_;
  WorkspaceLayout workspace_;
  size_t scratchpad_offset_ = 0, src_offset_ = 0, dst_offset_ = 0;
};

}  // namespace

void register_conv_kernels(CpuKernelTable& table) {
  const CpuOp conv{conv_supported, ConvKernel::make, conv_tactics};
  table.add(OpKind::Conv, conv);
  table.add(OpKind::FusedConv, conv);
}

}  // namespace kiln::backends::cpu
