// ConvTranspose reference kernel: the adjoint of Conv. Every input element is scattered through
// the kernel into the output, y[n, m, j * stride + k * dilation - pad] += x[n, c, j] * w[c, m', k],
// computed in double with the innermost loop contiguous along the input's last axis.
#include "backends/reference/kernels/conv_operands.h"
#include "backends/reference/kernels/conv_window.h"
#include "backends/reference/kernels/nn_kernels.h"
#include "core/conv_params.h"

namespace kiln::reference::nn {
namespace {

Result<ConvSetup> plan_conv_transpose(const Tensor& x, const Tensor& w, const Tensor* b, const Attributes& attrs) {
  KILN_ASSIGN_OR_RETURN(ConvSetup s, begin_conv_setup(x, w, attrs));
  if (w.shape()[0] != s.in_channels)
    return invalid_argument("X has " + std::to_string(s.in_channels) + " channels but W " + w.shape().to_string() +
                            " has " + std::to_string(w.shape()[0]) + " input channels");
  if (s.in_channels % s.group != 0)
    return invalid_argument("X has " + std::to_string(s.in_channels) + " channels, not divisible by group " +
                            std::to_string(s.group));
  s.out_channels = w.shape()[1] * s.group;
  KILN_RETURN_IF_ERROR(check_conv_bias(b, x, s.out_channels));
  const size_t spatial = x.rank() - 2;
  KILN_ASSIGN_OR_RETURN(WindowAttrs window, decode_conv_window(x, w, attrs));
  KILN_ASSIGN_OR_RETURN(TransposeAttrs transpose, decode_transpose(attrs, spatial));
  std::vector<int64_t> out_dims = {s.batch, s.out_channels};
  for (size_t a = 0; a < spatial; ++a) {
    KILN_ASSIGN_OR_RETURN(AxisGeometry g, transpose_axis(window, transpose, a, x.shape()[a + 2]));
    s.axes.push_back(g);
    out_dims.push_back(g.output);
  }
  s.output_shape = Shape(std::move(out_dims));
  return s;
}

void conv_transpose_forward(const ConvSetup& s, const double* x, const double* w, const double* bias, double* y) {
  std::vector<PassAxis> pass_axes;
  int64_t in_plane = 1, out_plane = 1;
  for (const AxisGeometry& g : s.axes) {
    pass_axes.push_back({g.input, g.output, g.stride, g.dilation, g.pad_begin, g.kernel});
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
      const int64_t group_index = m / out_per_group;
      const int64_t m_in_group = m % out_per_group;
      for (int64_t c = 0; c < in_per_group; ++c) {
        const int64_t in_channel = group_index * in_per_group + c;
        const double* plane = x + (n * s.in_channels + in_channel) * in_plane;
        const double* weights = w + (in_channel * out_per_group + m_in_group) * taps;
        for (int64_t tap = 0; tap < taps; ++tap) {
          const double wv = weights[tap];
          pass.for_each_row(tap, [&](int64_t in_off, int64_t out_off, int64_t begin, int64_t end) {
            const double* in_row = plane + in_off;
            double* out_row = acc + out_off;
            for (int64_t j = begin; j < end; ++j) out_row[j * stride] += wv * in_row[j];
          });
        }
      }
    }
  }
}

Status conv_transpose_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_float_input(ctx, kX, "X"));
  KILN_ASSIGN_OR_RETURN(const Tensor* w, required_float_input(ctx, kW, "W"));
  const Tensor* b = ctx.input(kB);
  if (b && !b->defined()) b = nullptr;
  KILN_ASSIGN_OR_RETURN(ConvSetup setup, plan_conv_transpose(*x, *w, b, ctx.attributes()));
  const std::vector<double> xd = to_doubles(*x);
  const std::vector<double> wd = to_doubles(*w);
  const std::vector<double> bd = b ? to_doubles(*b) : std::vector<double>();
  std::vector<double> yd(static_cast<size_t>(setup.output_shape.numel()));
  if (!yd.empty()) conv_transpose_forward(setup, xd.data(), wd.data(), b ? bd.data() : nullptr, yd.data());
  ctx.outputs[0] = from_doubles(x->dtype(), setup.output_shape, yd);
  return {};
}

}  // namespace

void register_conv_transpose_kernels(KernelTable& table) { table.add(OpKind::ConvTranspose, conv_transpose_kernel); }

}  // namespace kiln::reference::nn
