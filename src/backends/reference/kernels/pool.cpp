// Pooling reference kernels: MaxPool (with the optional Indices output), AveragePool, LpPool and
// the Global*Pool ops. Each output visits its window tap by tap; taps outside the input are
// padding (skipped by max and Lp; counted by average only with count_include_pad).
#include <cmath>
#include <limits>

#include "backends/reference/kernels/channels_last.h"
#include "backends/reference/kernels/nn_kernels.h"
#include "core/conv_params.h"

namespace kiln::reference::nn {
namespace {

constexpr size_t kMinPoolRank = 3;
constexpr size_t kIndicesOutput = 1;
constexpr int64_t kDefaultLpOrder = 2;
constexpr int64_t kNoIndex = -1;

enum class PoolKind { kMax, kAverage, kLp };

struct PoolSetup {
  int64_t planes = 0;  // N * C
  std::vector<AxisGeometry> axes;
  Shape output_shape;
  int64_t in_plane = 1;
  int64_t out_plane = 1;
};

Result<PoolSetup> plan_pool(const Tensor& x, const Attributes& attrs) {
  KILN_RETURN_IF_ERROR(require_min_rank(x, kMinPoolRank, "X"));
  const size_t spatial = x.rank() - 2;
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> kernel, decode_kernel_shape(attrs, spatial, {}));
  KILN_ASSIGN_OR_RETURN(WindowAttrs window, decode_window(attrs, kernel, /*allow_ceil_mode=*/true));
  PoolSetup s;
  s.planes = x.shape()[0] * x.shape()[1];
  std::vector<int64_t> out_dims = {x.shape()[0], x.shape()[1]};
  for (size_t a = 0; a < spatial; ++a) {
    KILN_ASSIGN_OR_RETURN(AxisGeometry g, forward_axis(window, a, x.shape()[a + 2]));
    s.axes.push_back(g);
    out_dims.push_back(g.output);
    s.in_plane *= g.input;
    s.out_plane *= g.output;
  }
  s.output_shape = Shape(std::move(out_dims));
  return s;
}

// Visits every output position of one plane and, for each, its window taps.
class WindowWalker {
 public:
  explicit WindowWalker(const PoolSetup& s) : axes_(s.axes) {
    const size_t rank = axes_.size();
    int64_t volume = 1;
    for (const AxisGeometry& g : axes_) volume *= g.kernel;
    taps_.resize(static_cast<size_t>(volume) * rank);
    for (int64_t tap = 0; tap < volume; ++tap) {
      int64_t rest = tap;
      for (size_t a = rank; a-- > 0;) {
        taps_[static_cast<size_t>(tap) * rank + a] = (rest % axes_[a].kernel) * axes_[a].dilation;
        rest /= axes_[a].kernel;
      }
    }
    volume_ = volume;
    out_index_.assign(rank, 0);
    in_index_.assign(rank, 0);
  }

  // f(out_offset, visit) where visit(g) calls g(in_index, inside_input, inside_padded) per tap.
  template <class F>
  void for_each_output(F&& f) {
    const size_t rank = axes_.size();
    std::fill(out_index_.begin(), out_index_.end(), 0);
    int64_t out_offset = 0;
    while (true) {
      auto visit = [&](auto&& g) {
        for (int64_t tap = 0; tap < volume_; ++tap) {
          bool inside = true, inside_padded = true;
          for (size_t a = 0; a < rank; ++a) {
            const AxisGeometry& ax = axes_[a];
            const int64_t i = out_index_[a] * ax.stride - ax.pad_begin + taps_[static_cast<size_t>(tap) * rank + a];
            in_index_[a] = i;
            inside = inside && i >= 0 && i < ax.input;
            inside_padded = inside_padded && i >= -ax.pad_begin && i < ax.input + ax.pad_end;
          }
          g(static_cast<const std::vector<int64_t>&>(in_index_), inside, inside_padded);
        }
      };
      f(out_offset, visit);
      ++out_offset;
      size_t a = rank;
      bool advanced = false;
      while (a > 0 && !advanced) {
        --a;
        if (++out_index_[a] < axes_[a].output) advanced = true;
        else out_index_[a] = 0;
      }
      if (!advanced) return;
    }
  }

 private:
  std::vector<AxisGeometry> axes_;
  std::vector<int64_t> taps_;  // dilated tap offsets, volume x rank
  int64_t volume_ = 1;
  std::vector<int64_t> out_index_;
  std::vector<int64_t> in_index_;
};

// Row-major (storage_order 0) or column-major (1) offset of a spatial index within its plane.
int64_t plane_offset(const std::vector<int64_t>& index, const std::vector<AxisGeometry>& axes, bool column_major) {
  int64_t offset = 0, scale = 1;
  if (column_major) {
    for (size_t a = 0; a < axes.size(); ++a) {
      offset += index[a] * scale;
      scale *= axes[a].input;
    }
  } else {
    for (size_t a = axes.size(); a-- > 0;) {
      offset += index[a] * scale;
      scale *= axes[a].input;
    }
  }
  return offset;
}

// The value an empty window (all padding) produces for MaxPool: the dtype's lowest value.
double lowest_value(DType dtype) {
  if (dtype == DType::kInt8) return std::numeric_limits<int8_t>::min();
  if (dtype == DType::kUInt8) return 0.0;
  return -std::numeric_limits<double>::infinity();
}

Status windowed_pool(KernelContext& ctx, PoolKind kind) {
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, "X"));
  const bool integer_ok = kind == PoolKind::kMax && (x->dtype() == DType::kInt8 || x->dtype() == DType::kUInt8);
  if (!dtype_is_floating(x->dtype()) && !integer_ok) return unsupported_dtype(std::string(op_kind_name(ctx.op)).c_str(), x->dtype());
  const Attributes& attrs = ctx.attributes();
  KILN_ASSIGN_OR_RETURN(PoolSetup setup, plan_pool(*x, attrs));
  const bool count_pad = attrs.get_int("count_include_pad", 0) != 0;
  const auto p = static_cast<double>(attrs.get_int("p", kDefaultLpOrder));
  const bool column_major = attrs.get_int("storage_order", 0) == 1;
  const bool want_indices = kind == PoolKind::kMax && ctx.num_outputs() > kIndicesOutput;

  const std::vector<double> xd = to_doubles(*x);
  std::vector<double> yd(static_cast<size_t>(setup.output_shape.numel()));
  std::vector<int64_t> indices(want_indices ? yd.size() : 0);
  const double empty_max = lowest_value(x->dtype());
  WindowWalker walker(setup);
  for (int64_t plane = 0; plane < setup.planes; ++plane) {
    const double* in = xd.data() + plane * setup.in_plane;
    double* out = yd.data() + plane * setup.out_plane;
    walker.for_each_output([&](int64_t out_offset, auto&& visit) {
      double acc = kind == PoolKind::kMax ? empty_max : 0.0;
      int64_t best = kNoIndex, count = 0;
      visit([&](const std::vector<int64_t>& index, bool inside, bool inside_padded) {
        if (kind == PoolKind::kAverage && (inside || (count_pad && inside_padded))) ++count;
        if (!inside) return;
        const double v = in[plane_offset(index, setup.axes, false)];
        if (kind == PoolKind::kMax) {
          if (best == kNoIndex || v > acc) {
            acc = v;
            best = plane_offset(index, setup.axes, column_major);
          }
        } else if (kind == PoolKind::kAverage) {
          acc += v;
        } else {
          acc += std::pow(std::fabs(v), p);
        }
      });
      if (kind == PoolKind::kAverage) acc = count > 0 ? acc / static_cast<double>(count) : 0.0;
      if (kind == PoolKind::kLp) acc = std::pow(acc, 1.0 / p);
      out[out_offset] = acc;
      if (want_indices)
        indices[static_cast<size_t>(plane * setup.out_plane + out_offset)] =
            best == kNoIndex ? kNoIndex : plane * setup.in_plane + best;
    });
  }
  ctx.outputs[0] = from_doubles(x->dtype(), setup.output_shape, yd);
  if (want_indices) ctx.outputs[kIndicesOutput] = Tensor::from_vector(DType::kInt64, setup.output_shape, indices);
  return {};
}

Status global_pool(KernelContext& ctx, PoolKind kind) {
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_float_input(ctx, 0, "X"));
  KILN_RETURN_IF_ERROR(require_min_rank(*x, kMinPoolRank, "X"));
  const auto p = static_cast<double>(ctx.attributes().get_int("p", kDefaultLpOrder));
  const int64_t planes = x->shape()[0] * x->shape()[1];
  const int64_t plane_size = volume_from(x->shape(), 2);
  std::vector<int64_t> out_dims(x->rank(), 1);
  out_dims[0] = x->shape()[0];
  out_dims[1] = x->shape()[1];
  const std::vector<double> xd = to_doubles(*x);
  std::vector<double> yd(static_cast<size_t>(planes));
  for (int64_t plane = 0; plane < planes; ++plane) {
    const double* in = xd.data() + plane * plane_size;
    double acc = kind == PoolKind::kMax ? -std::numeric_limits<double>::infinity() : 0.0;
    for (int64_t i = 0; i < plane_size; ++i) {
      if (kind == PoolKind::kMax) acc = std::max(acc, in[i]);
      else if (kind == PoolKind::kAverage) acc += in[i];
      else acc += std::pow(std::fabs(in[i]), p);
    }
    if (kind == PoolKind::kAverage) acc = plane_size > 0 ? acc / static_cast<double>(plane_size) : 0.0;
    if (kind == PoolKind::kLp) acc = std::pow(acc, 1.0 / p);
    yd[static_cast<size_t>(plane)] = acc;
  }
  ctx.outputs[0] = from_doubles(x->dtype(), Shape(std::move(out_dims)), yd);
  return {};
}

Status max_pool_nchw(KernelContext& ctx) { return windowed_pool(ctx, PoolKind::kMax); }
Status average_pool_nchw(KernelContext& ctx) { return windowed_pool(ctx, PoolKind::kAverage); }
Status lp_pool_nchw(KernelContext& ctx) { return windowed_pool(ctx, PoolKind::kLp); }
Status global_max_pool_nchw(KernelContext& ctx) { return global_pool(ctx, PoolKind::kMax); }
Status global_average_pool_nchw(KernelContext& ctx) { return global_pool(ctx, PoolKind::kAverage); }
Status global_lp_pool_nchw(KernelContext& ctx) { return global_pool(ctx, PoolKind::kLp); }

// channels_last (X and Y [N, H, W, C]) transposes around the NCHW kernels above.
Status max_pool_kernel(KernelContext& ctx) { return run_with_layout(ctx, max_pool_nchw, {0}); }
Status average_pool_kernel(KernelContext& ctx) { return run_with_layout(ctx, average_pool_nchw, {0}); }
Status lp_pool_kernel(KernelContext& ctx) { return run_with_layout(ctx, lp_pool_nchw, {0}); }
Status global_max_pool_kernel(KernelContext& ctx) { return run_with_layout(ctx, global_max_pool_nchw, {0}); }
Status global_average_pool_kernel(KernelContext& ctx) { return run_with_layout(ctx, global_average_pool_nchw, {0}); }
Status global_lp_pool_kernel(KernelContext& ctx) { return run_with_layout(ctx, global_lp_pool_nchw, {0}); }

}  // namespace

void register_pool_kernels(KernelTable& table) {
  table.add(OpKind::MaxPool, max_pool_kernel);
  table.add(OpKind::AveragePool, average_pool_kernel);
  table.add(OpKind::LpPool, lp_pool_kernel);
  table.add(OpKind::GlobalMaxPool, global_max_pool_kernel);
  table.add(OpKind::GlobalAveragePool, global_average_pool_kernel);
  table.add(OpKind::GlobalLpPool, global_lp_pool_kernel);
}

}  // namespace kiln::reference::nn
