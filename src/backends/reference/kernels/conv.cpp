// Conv reference kernel: N-D, grouped, strided, dilated, padded (explicit or auto_pad), with
// optional bias. Computes in double. Loop order per (batch, output channel): accumulate the
// output plane over input channels of the group and kernel taps, the innermost loop running
// contiguously along the output's last axis.
#include "backends/reference/kernels/conv_operands.h"
#include "backends/reference/kernels/conv_window.h"
#include "backends/reference/kernels/nn_kernels.h"
#include "core/conv_params.h"

namespace kiln::reference::nn {
namespace {

Result<ConvSetup> plan_conv(const Tensor& x, const Tensor& w, const Tensor* b, const Attributes& attrs) {
  KILN_ASSIGN_OR_RETURN(ConvSetup s, begin_conv_setup(x, w, attrs));
  s.out_channels = w.shape()[0];
  if (s.in_channels != w.shape()[1] * s.group)
    return invalid_argument("X has " + std::to_string(s.in_channels) + " channels but W " + w.shape().to_string() +
                            " expects " + std::to_string(w.shape()[1]) + " per group x " + std::to_string(s.group) +
                            " groups");
  if (s.out_channels % s.group != 0)
    return invalid_argument("W has " + std::to_string(s.out_channels) + " output channels, not divisible by group " +
                            std::to_string(s.group));
  KILN_RETURN_IF_ERROR(check_conv_bias(b, x, s.out_channels));
  const size_t spatial = x.rank() - 2;
  KILN_ASSIGN_OR_RETURN(WindowAttrs window, decode_conv_window(x, w, attrs));
  std::vector<int64_t> out_dims = {s.batch, s.out_channels};
  for (size_t a = 0; a < spatial; ++a) {
    KILN_ASSIGN_OR_RETURN(AxisGeometry g, forward_axis(window, a, x.shape()[a + 2]));
    s.axes.push_back(g);
    out_dims.push_back(g.output);
  }
  s.output_shape = Shape(std::move(out_dims));
  return s;
}

// y[n, m, o] = bias[m] + sum over c in m's group, taps k: w[m, c, k] * x[n, c, o * stride + k * dilation - pad].
void conv_forward(const ConvSetup& s, const double* x, const double* w, const double* bias, double* y) {
  std::vector<PassAxis> pass_axes;
  int64_t in_plane = 1, out_plane = 1;
  for (const AxisGeometry& g : s.axes) {
    pass_axes.push_back({g.output, g.input, g.stride, g.dilation, g.pad_begin, g.kernel});
    in_plane *= g.input;
    out_plane *= g.output;
  }
  WindowPass pass(std::move(pass_axes));
  const int64_t taps = pass.kernel_volume();
  const int64_t stride = pass.last_stride();
  const int64_t in_per_group = s.in_channels / s.group;
  const int64_t out_per_group = s.out_channels / s.group;
  for (int64_t n = 0; n < s.batch; ++n) {
    for (int64_t m = 0; m < s.out_channels; ++m) {
      double* acc = y + (n * s.out_channels + m) * out_plane;
      std::fill(acc, acc + out_plane, bias ? bias[m] : 0.0);
      const int64_t first_in = (m / out_per_group) * in_per_group;
      for (int64_t c = 0; c < in_per_group; ++c) {
        const double* plane = x + (n * s.in_channels + first_in + c) * in_plane;
        const double* weights = w + (m * in_per_group + c) * taps;
        for (int64_t tap = 0; tap < taps; ++tap) {
          const double wv = weights[tap];
          pass.for_each_row(tap, [&](int64_t out_off, int64_t in_off, int64_t begin, int64_t end) {
            double* out_row = acc + out_off;
            const double* in_row = plane + in_off;
            if (stride == 1) {
              for (int64_t j = begin; j < end; ++j) out_row[j] += wv * in_row[j];
            } else {
              for (int64_t j = begin; j < end; ++j) out_row[j] += wv * in_row[j * stride];
            }
          });
        }
      }
    }
  }
}

Status conv_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_float_input(ctx, kX, "X"));
  KILN_ASSIGN_OR_RETURN(const Tensor* w, required_float_input(ctx, kW, "W"));
  const Tensor* b = ctx.input(kB);
  if (b && !b->defined()) b = nullptr;
  KILN_ASSIGN_OR_RETURN(ConvSetup setup, plan_conv(*x, *w, b, ctx.attributes()));
  const std::vector<double> xd = to_doubles(*x);
  const std::vector<double> wd = to_doubles(*w);
  const std::vector<double> bd = b ? to_doubles(*b) : std::vector<double>();
  std::vector<double> yd(static_cast<size_t>(setup.output_shape.numel()));
  if (!yd.empty()) conv_forward(setup, xd.data(), wd.data(), b ? bd.data() : nullptr, yd.data());
  ctx.outputs[0] = from_doubles(x->dtype(), setup.output_shape, yd);
  return {};
}

}  // namespace

void register_conv_kernels(KernelTable& table) { table.add(OpKind::Conv, conv_kernel); }

}  // namespace kiln::reference::nn
