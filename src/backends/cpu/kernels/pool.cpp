// MaxPool and AveragePool through oneDNN pooling on NCHW or, for channels_last nodes, NHWC;
// GlobalAveragePool as one vectorized mean per (n, c) plane (NCHW) or a sum of channel rows per
// image (NHWC). MaxPool's optional Indices output is not produced here.
#include <algorithm>
#include <string>
#include <unordered_map>
#include <vector>

#include "backends/cpu/kernel_table.h"
#include "backends/cpu/onednn.h"
#include "backends/cpu/parallel.h"
#include "backends/cpu/row_math.h"
#include "core/channels_last.h"
#include "core/conv_params.h"

namespace kiln::backends::cpu {
namespace {

constexpr size_t kMinSpatial = 1, kMaxSpatial = 3;

bool float_io(const NodeDesc& node) {
  if (node.inputs.size() != 1 || node.outputs.empty() || node.inputs[0].dtype != DType::kFloat32 ||
      node.outputs[0].dtype != DType::kFloat32)
    return false;
  for (size_t i = 1; i < node.outputs.size(); ++i)
    if (node.outputs[i].present()) return false;
  const size_t rank = node.inputs[0].shape.rank();
  return rank >= kMinSpatial + 2 && rank <= kMaxSpatial + 2;
}

struct PoolGeometry {
  dnnl::algorithm algorithm{};
  dnnl::memory::dims src, dst, kernel, strides, dilates, pad_l, pad_r;
  bool nhwc = false;
};

// True for a channels_last node (rank 4 by the attribute's definition); errors for bad values.
Result<bool> channels_last_of(const NodeDesc& node) {
  KILN_ASSIGN_OR_RETURN(const bool nhwc, decode_channels_last(node.attrs()));
  if (nhwc && node.inputs[0].shape.rank() != kChannelsLastRank) return invalid_argument("channels_last needs rank-4 X");
  return nhwc;
}

dnnl::memory::format_tag activation_tag(size_t spatial) {
  using T = dnnl::memory::format_tag;
  return spatial == 1 ? T::ncw : spatial == 2 ? T::nchw : T::ncdhw;
}

Result<PoolGeometry> pool_geometry(const NodeDesc& node) {
  KILN_ASSIGN_OR_RETURN(const bool nhwc, channels_last_of(node));
  const Shape x = nhwc ? channels_first_shape(node.inputs[0].shape) : node.inputs[0].shape;
  const size_t spatial = x.rank() - 2;
  const bool is_max = node.op == OpKind::MaxPool;
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> kernel, node.attrs().require_ints("kernel_shape"));
  if (kernel.size() != spatial) return invalid_argument("pool: kernel_shape rank differs from the input's");
  KILN_ASSIGN_OR_RETURN(WindowAttrs window, decode_window(node.attrs(), kernel, true));
  if (!is_max && window.dilations != std::vector<int64_t>(spatial, 1))
    return unimplemented("AveragePool with dilations");
  const bool count_pad = node.attrs().get_int("count_include_pad", 0) != 0;
  if (is_max && node.attrs().get_int("storage_order", 0) != 0) return unimplemented("MaxPool storage_order 1");
  PoolGeometry g;
  g.algorithm = is_max ? dnnl::algorithm::pooling_max
                       : count_pad ? dnnl::algorithm::pooling_avg_include_padding
                                   : dnnl::algorithm::pooling_avg_exclude_padding;
  std::vector<int64_t> out{x[0], x[1]};
  for (size_t a = 0; a < spatial; ++a) {
    KILN_ASSIGN_OR_RETURN(AxisGeometry axis, forward_axis(window, a, x[2 + a]));
    // ceil_mode may add windows that reach past the end padding; oneDNN wants that as padding.
    const int64_t needed_end = (axis.output - 1) * axis.stride + window.effective_kernel(a) - axis.input - axis.pad_begin;
    if (needed_end > axis.pad_end && count_pad) return unimplemented("AveragePool count_include_pad with ceil_mode");
    out.push_back(axis.output);
    g.kernel.push_back(axis.kernel);
    g.strides.push_back(axis.stride);
    g.dilates.push_back(axis.dilation - 1);
    g.pad_l.push_back(axis.pad_begin);
    g.pad_r.push_back(std::max(axis.pad_end, needed_end));
  }
  const Shape y = nhwc ? channels_first_shape(node.outputs[0].shape) : node.outputs[0].shape;
  if (Shape(out) != y) return invalid_argument("pool: unexpected output shape");
  g.src = to_dims(x.dims());
  g.dst = to_dims(out);
  g.nhwc = nhwc;
  return g;
}

bool pool_supported(const NodeDesc& node) { return float_io(node) && pool_geometry(node).ok(); }

class PoolKernel final : public Kernel {
 public:
  static Result<std::unique_ptr<Kernel>> make(const NodeDesc& node, int32_t, const CpuConfig& config) {
    KILN_ASSIGN_OR_RETURN(PoolGeometry g, pool_geometry(node));
    auto kernel = std::make_unique<PoolKernel>();
    kernel->threads_ = config.threads;
    const auto tag = g.nhwc ? dnnl::memory::format_tag::nhwc : activation_tag(g.src.size() - 2);
    KILN_RETURN_IF_ERROR(onednn_call("pooling setup", [&] {
      use_threads(config.threads);
      kernel->src_ = dnnl::memory::desc(g.src, dnnl::memory::data_type::f32, tag);
      kernel->dst_ = dnnl::memory::desc(g.dst, dnnl::memory::data_type::f32, tag);
      dnnl::primitive_attr attr;
      attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
      const dnnl::pooling_v2_forward::desc desc(dnnl::prop_kind::forward_inference, g.algorithm, kernel->src_,
                                                kernel->dst_, g.strides, g.kernel, g.dilates, g.pad_l, g.pad_r);
      const dnnl::pooling_v2_forward::primitive_desc pd(desc, attr, cpu_engine());
      kernel->impl_ = pd.impl_info_str();
      kernel->scratchpad_ = pd.scratchpad_desc();
      kernel->pool_ = dnnl::pooling_v2_forward(pd);
    }));
    return std::unique_ptr<Kernel>(std::move(kernel));
  }
  size_t workspace_bytes() const override { return scratchpad_.get_size(); }
  std::string describe() const override { return "onednn pooling " + impl_; }
  Status execute(const ExecuteArgs& args) const override {
    use_threads(threads_);
    return onednn_call("pooling", [&] {
      const auto& engine = cpu_engine();
      pool_.execute(thread_stream(), {{DNNL_ARG_SRC, dnnl::memory(src_, engine, const_cast<void*>(args.inputs[0]))},
                                      {DNNL_ARG_DST, dnnl::memory(dst_, engine, args.outputs[0])},
                                      {DNNL_ARG_SCRATCHPAD, dnnl::memory(scratchpad_, engine, args.workspace)}});
      thread_stream().wait();
    });
  }

 private:
  int threads_ = 1;
  std::string impl_;
  dnnl::pooling_v2_forward pool_;
  dnnl::memory::desc src_, dst_, scratchpad_;
};

bool global_average_supported(const NodeDesc& node) {
  if (!float_io(node)) return false;
  auto nhwc = channels_last_of(node);
  if (!nhwc.ok()) return false;
  std::vector<int64_t> expected = node.inputs[0].shape.dims();
  const size_t first_spatial = *nhwc ? 1 : 2, end_spatial = *nhwc ? expected.size() - 1 : expected.size();
  for (size_t i = first_spatial; i < end_spatial; ++i) expected[i] = 1;
  return node.outputs[0].shape == Shape(expected);
}

class GlobalAveragePoolKernel final : public Kernel {
 public:
  GlobalAveragePoolKernel(int64_t planes, int64_t plane_size, int threads)
      : planes_(planes), plane_size_(plane_size), threads_(threads) {}
  std::string describe() const override { return "cpu vectorized global average pool"; }
  Status execute(const ExecuteArgs& args) const override {
    const auto* x = static_cast<const float*>(args.inputs[0]);
    auto* y = static_cast<float*>(args.outputs[0]);
    const float inv = 1.0f / static_cast<float>(plane_size_);
    parallel_for(planes_, 16, threads_, [&](int64_t begin, int64_t end) {
      for (int64_t p = begin; p < end; ++p) y[p] = sum_row(x + p * plane_size_, plane_size_) * inv;
    });
    return Status::ok_status();
  }

 private:
  int64_t planes_, plane_size_;
  int threads_;
};

// NHWC: each image's H*W rows of C channels summed into one row (contiguous, vectorizes).
class ChannelsLastGlobalAveragePoolKernel final : public Kernel {
 public:
  ChannelsLastGlobalAveragePoolKernel(int64_t images, int64_t positions, int64_t channels, int threads)
      : images_(images), positions_(positions), channels_(channels), threads_(threads) {}
  std::string describe() const override { return "cpu vectorized global average pool (channels_last)"; }
  Status execute(const ExecuteArgs& args) const override {
    const auto* x = static_cast<const float*>(args.inputs[0]);
    auto* y = static_cast<float*>(args.outputs[0]);
    const float inv = 1.0f / static_cast<float>(positions_);
    parallel_for(images_, 1, threads_, [&](int64_t begin, int64_t end) {
      for (int64_t n = begin; n < end; ++n) {
        float* out = y + n * channels_;
        std::fill(out, out + channels_, 0.0f);
        const float* image = x + n * positions_ * channels_;
        for (int64_t p = 0; p < positions_; ++p) {
          const float* row = image + p * channels_;
          for (int64_t c = 0; c < channels_; ++c) out[c] += row[c];
        }
        for (int64_t c = 0; c < channels_; ++c) out[c] *= inv;
      }
    });
    return Status::ok_status();
  }

 private:
  int64_t images_, positions_, channels_;
  int threads_;
};

Result<std::unique_ptr<Kernel>> make_global_average(const NodeDesc& node, int32_t, const CpuConfig& config) {
  const Shape& x = node.inputs[0].shape;
  KILN_ASSIGN_OR_RETURN(const bool nhwc, channels_last_of(node));
  if (nhwc) {
    const int64_t channels = x[3];
    const int64_t positions = x[1] * x[2];
    return std::unique_ptr<Kernel>(
        std::make_unique<ChannelsLastGlobalAveragePoolKernel>(x[0], positions, channels, config.threads));
  }
  const int64_t planes = x[0] * x[1];
  return std::unique_ptr<Kernel>(
      std::make_unique<GlobalAveragePoolKernel>(planes, planes == 0 ? 0 : x.numel() / planes, config.threads));
}

}  // namespace

void register_pool_kernels(CpuKernelTable& table) {
  table.add(OpKind::MaxPool, {pool_supported, PoolKernel::make});
  table.add(OpKind::AveragePool, {pool_supported, PoolKernel::make});
  table.add(OpKind::GlobalAveragePool, {global_average_supported, make_global_average});
}

}  // namespace kiln::backends::cpu
