// Normalization reference kernels computed in double: BatchNormalization (inference and
// training_mode), InstanceNormalization, LpNormalization, LRN and MeanVarianceNormalization.
#include <cmath>

#include "backends/reference/kernels/nn_kernels.h"

namespace kiln::reference::nn {
namespace {

constexpr size_t kMinChannelRank = 2;
constexpr float kDefaultEpsilon = 1e-5f;
constexpr double kMvnEpsilon = 1e-9;  // added to the standard deviation, as in ONNX's function body
constexpr float kDefaultLrnAlpha = 1e-4f;
constexpr float kDefaultLrnBeta = 0.75f;
constexpr float kDefaultLrnBias = 1.0f;

enum BatchNormInput : size_t { kX = 0, kScale = 1, kBias = 2, kMean = 3, kVar = 4, kBatchNormInputs = 5 };

constexpr float kDefaultMomentum = 0.9f;
enum BatchNormOutput : size_t { kY = 0, kRunningMean = 1, kRunningVar = 2 };

// Per-channel mean and population variance over the batch and spatial axes (training_mode=1).
void batch_statistics(const std::vector<double>& x, int64_t batch, int64_t channels, int64_t plane,
                      std::vector<double>& mean, std::vector<double>& var) {
  const auto count = static_cast<double>(batch * plane);
  mean.assign(static_cast<size_t>(channels), 0.0);
  var.assign(static_cast<size_t>(channels), 0.0);
  if (count == 0.0) return;
  for (int64_t c = 0; c < channels; ++c) {
    const auto ci = static_cast<size_t>(c);
    for (int64_t n = 0; n < batch; ++n) {
      const double* p = x.data() + (n * channels + c) * plane;
      for (int64_t i = 0; i < plane; ++i) mean[ci] += p[i];
    }
    mean[ci] /= count;
    for (int64_t n = 0; n < batch; ++n) {
      const double* p = x.data() + (n * channels + c) * plane;
      for (int64_t i = 0; i < plane; ++i) var[ci] += (p[i] - mean[ci]) * (p[i] - mean[ci]);
    }
    var[ci] /= count;
  }
}

Status batch_norm_kernel(KernelContext& ctx) {
  const int64_t training_mode = ctx.attributes().get_int("training_mode", 0);
  if (training_mode != 0 && training_mode != 1)
    return invalid_argument("attribute 'training_mode' is " + std::to_string(training_mode) + ", expected 0 or 1");
  if (training_mode == 0 && ctx.num_outputs() > 1)
    return unimplemented("BatchNormalization: the running statistics outputs exist only with training_mode=1");
  const char* names[kBatchNormInputs] = {"X", "scale", "B", "input_mean", "input_var"};
  const Tensor* in[kBatchNormInputs];
  for (size_t i = 0; i < kBatchNormInputs; ++i) {
    KILN_ASSIGN_OR_RETURN(in[i], required_float_input(ctx, i, names[i]));
  }
  const Tensor& x = *in[kX];
  KILN_RETURN_IF_ERROR(require_min_rank(x, kMinChannelRank, "X"));
  const int64_t channels = x.shape()[1];
  for (size_t i = kScale; i < kBatchNormInputs; ++i) KILN_RETURN_IF_ERROR(require_vector(*in[i], channels, names[i]));
  const double epsilon = ctx.attributes().get_float("epsilon", kDefaultEpsilon);
  const std::vector<double> scale = to_doubles(*in[kScale]), bias = to_doubles(*in[kBias]);
  std::vector<double> mean = to_doubles(*in[kMean]), var = to_doubles(*in[kVar]);
  std::vector<double> y = to_doubles(x);
  const int64_t plane = volume_from(x.shape(), 2);
  const int64_t batch = x.shape()[0];
  if (training_mode == 1) {
    // Normalize with the batch's statistics; the running ones move towards them by 1 - momentum.
    std::vector<double> batch_mean, batch_var;
    batch_statistics(y, batch, channels, plane, batch_mean, batch_var);
    const double momentum = ctx.attributes().get_float("momentum", kDefaultMomentum);
    std::vector<double> running_mean(mean.size()), running_var(var.size());
    for (size_t c = 0; c < mean.size(); ++c) {
      running_mean[c] = mean[c] * momentum + batch_mean[c] * (1.0 - momentum);
      running_var[c] = var[c] * momentum + batch_var[c] * (1.0 - momentum);
    }
    if (ctx.num_outputs() > kRunningMean)
      ctx.outputs[kRunningMean] = from_doubles(in[kMean]->dtype(), in[kMean]->shape(), running_mean);
    if (ctx.num_outputs() > kRunningVar)
      ctx.outputs[kRunningVar] = from_doubles(in[kVar]->dtype(), in[kVar]->shape(), running_var);
    mean = std::move(batch_mean);
    var = std::move(batch_var);
  }
  for (int64_t n = 0; n < batch; ++n) {
    for (int64_t c = 0; c < channels; ++c) {
      const auto ci = static_cast<size_t>(c);
      const double inv_std = 1.0 / std::sqrt(var[ci] + epsilon);
      double* p = y.data() + (n * channels + c) * plane;
      for (int64_t i = 0; i < plane; ++i) p[i] = (p[i] - mean[ci]) * inv_std * scale[ci] + bias[ci];
    }
  }
  ctx.outputs[kY] = from_doubles(x.dtype(), x.shape(), y);
  return {};
}

Status instance_norm_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_float_input(ctx, 0, "input"));
  KILN_ASSIGN_OR_RETURN(const Tensor* scale_t, required_float_input(ctx, 1, "scale"));
  KILN_ASSIGN_OR_RETURN(const Tensor* bias_t, required_float_input(ctx, 2, "B"));
  KILN_RETURN_IF_ERROR(require_min_rank(*x, kMinChannelRank + 1, "input"));
  const int64_t channels = x->shape()[1];
  KILN_RETURN_IF_ERROR(require_vector(*scale_t, channels, "scale"));
  KILN_RETURN_IF_ERROR(require_vector(*bias_t, channels, "B"));
  const double epsilon = ctx.attributes().get_float("epsilon", kDefaultEpsilon);
  const std::vector<double> scale = to_doubles(*scale_t), bias = to_doubles(*bias_t);
  std::vector<double> y = to_doubles(*x);
  const int64_t plane = volume_from(x->shape(), 2);
  for (int64_t nc = 0; nc < x->shape()[0] * channels; ++nc) {
    double* p = y.data() + nc * plane;
    const auto c = static_cast<size_t>(nc % channels);
    double sum = 0.0;
    for (int64_t i = 0; i < plane; ++i) sum += p[i];
    const double mean = plane > 0 ? sum / static_cast<double>(plane) : 0.0;
    double squares = 0.0;
    for (int64_t i = 0; i < plane; ++i) squares += (p[i] - mean) * (p[i] - mean);
    const double var = plane > 0 ? squares / static_cast<double>(plane) : 0.0;
    const double inv_std = 1.0 / std::sqrt(var + epsilon);
    for (int64_t i = 0; i < plane; ++i) p[i] = (p[i] - mean) * inv_std * scale[c] + bias[c];
  }
  ctx.outputs[0] = from_doubles(x->dtype(), x->shape(), y);
  return {};
}

// Splits `shape` around `axis` into outer x extent x inner (row-major).
struct AxisSplit {
  int64_t outer = 1, extent = 1, inner = 1;
};

AxisSplit split_at(const Shape& shape, size_t axis) {
  AxisSplit s;
  for (size_t d = 0; d < shape.rank(); ++d) {
    if (d < axis) s.outer *= shape[d];
    else if (d == axis) s.extent = shape[d];
    else s.inner *= shape[d];
  }
  return s;
}

Result<size_t> normalize_axis(int64_t axis, size_t rank, const char* name) {
  const auto r = static_cast<int64_t>(rank);
  if (axis < -r || axis >= r)
    return invalid_argument(std::string("attribute '") + name + "' is " + std::to_string(axis) +
                            ", out of range for rank " + std::to_string(rank));
  return static_cast<size_t>(axis < 0 ? axis + r : axis);
}

Status lp_norm_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_float_input(ctx, 0, "input"));
  const int64_t p = ctx.attributes().get_int("p", 2);
  if (p != 1 && p != 2) return invalid_argument("attribute 'p' is " + std::to_string(p) + ", expected 1 or 2");
  KILN_ASSIGN_OR_RETURN(size_t axis, normalize_axis(ctx.attributes().get_int("axis", -1), x->rank(), "axis"));
  const AxisSplit s = split_at(x->shape(), axis);
  std::vector<double> y = to_doubles(*x);
  for (int64_t o = 0; o < s.outer; ++o) {
    for (int64_t i = 0; i < s.inner; ++i) {
      double* base = y.data() + o * s.extent * s.inner + i;
      double norm = 0.0;
      for (int64_t k = 0; k < s.extent; ++k) norm += p == 1 ? std::fabs(base[k * s.inner]) : base[k * s.inner] * base[k * s.inner];
      if (p == 2) norm = std::sqrt(norm);
      // A zero vector stays zero instead of becoming 0/0.
      for (int64_t k = 0; k < s.extent; ++k) base[k * s.inner] = norm > 0.0 ? base[k * s.inner] / norm : 0.0;
    }
  }
  ctx.outputs[0] = from_doubles(x->dtype(), x->shape(), y);
  return {};
}

Status lrn_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_float_input(ctx, 0, "X"));
  KILN_RETURN_IF_ERROR(require_min_rank(*x, kMinChannelRank, "X"));
  const Attributes& attrs = ctx.attributes();
  KILN_ASSIGN_OR_RETURN(int64_t size, attrs.require_int("size"));
  if (size < 1) return invalid_argument("attribute 'size' must be >= 1");
  const double alpha = attrs.get_float("alpha", kDefaultLrnAlpha);
  const double beta = attrs.get_float("beta", kDefaultLrnBeta);
  const double bias = attrs.get_float("bias", kDefaultLrnBias);
  const AxisSplit s = split_at(x->shape(), 1);
  const std::vector<double> xd = to_doubles(*x);
  std::vector<double> y(xd.size());
  const int64_t before = (size - 1) / 2;   // channels below c in the window: floor((size-1)/2)
  const int64_t after = size - 1 - before;  // and above: ceil((size-1)/2)
  for (int64_t n = 0; n < s.outer; ++n) {
    for (int64_t c = 0; c < s.extent; ++c) {
      const int64_t lo = std::max<int64_t>(0, c - before), hi = std::min(s.extent - 1, c + after);
      for (int64_t i = 0; i < s.inner; ++i) {
        double square_sum = 0.0;
        for (int64_t k = lo; k <= hi; ++k) {
          const double v = xd[static_cast<size_t>((n * s.extent + k) * s.inner + i)];
          square_sum += v * v;
        }
        const auto at = static_cast<size_t>((n * s.extent + c) * s.inner + i);
        y[at] = xd[at] / std::pow(bias + alpha / static_cast<double>(size) * square_sum, beta);
      }
    }
  }
  ctx.outputs[0] = from_doubles(x->dtype(), x->shape(), y);
  return {};
}

Status mvn_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_float_input(ctx, 0, "X"));
  const std::vector<int64_t> axes = ctx.attributes().get_ints("axes", {0, 2, 3});
  std::vector<bool> reduced(x->rank(), false);
  for (int64_t a : axes) {
    KILN_ASSIGN_OR_RETURN(size_t axis, normalize_axis(a, x->rank(), "axes"));
    reduced[axis] = true;
  }
  // Each element belongs to the group given by its index on the kept axes.
  std::vector<int64_t> group_dims;
  for (size_t d = 0; d < x->rank(); ++d) group_dims.push_back(reduced[d] ? 1 : x->shape()[d]);
  const Shape group_shape(group_dims);
  const std::vector<int64_t> group_strides = contiguous_strides(group_shape);
  std::vector<int64_t> group_of(static_cast<size_t>(x->numel()));
  size_t flat = 0;
  for_each_index(x->shape(), [&](const std::vector<int64_t>& index) {
    int64_t g = 0;
    for (size_t d = 0; d < index.size(); ++d) g += reduced[d] ? 0 : index[d] * group_strides[d];
    group_of[flat++] = g;
  });
  const auto groups = static_cast<size_t>(group_shape.numel());
  const std::vector<double> xd = to_doubles(*x);
  std::vector<double> sum(groups, 0.0), squares(groups, 0.0), count(groups, 0.0);
  for (size_t i = 0; i < xd.size(); ++i) {
    sum[static_cast<size_t>(group_of[i])] += xd[i];
    count[static_cast<size_t>(group_of[i])] += 1.0;
  }
  for (size_t g = 0; g < groups; ++g) sum[g] = count[g] > 0 ? sum[g] / count[g] : 0.0;  // now the mean
  for (size_t i = 0; i < xd.size(); ++i) {
    const double d = xd[i] - sum[static_cast<size_t>(group_of[i])];
    squares[static_cast<size_t>(group_of[i])] += d * d;
  }
  std::vector<double> y(xd.size());
  for (size_t i = 0; i < xd.size(); ++i) {
    const auto g = static_cast<size_t>(group_of[i]);
    const double stddev = std::sqrt(count[g] > 0 ? squares[g] / count[g] : 0.0);
    y[i] = (xd[i] - sum[g]) / (stddev + kMvnEpsilon);
  }
  ctx.outputs[0] = from_doubles(x->dtype(), x->shape(), y);
  return {};
}

}  // namespace

void register_normalization_kernels(KernelTable& table) {
  table.add(OpKind::BatchNormalization, batch_norm_kernel);
  table.add(OpKind::InstanceNormalization, instance_norm_kernel);
  table.add(OpKind::LpNormalization, lp_norm_kernel);
  table.add(OpKind::LRN, lrn_kernel);
  table.add(OpKind::MeanVarianceNormalization, mvn_kernel);
}

}  // namespace kiln::reference::nn
