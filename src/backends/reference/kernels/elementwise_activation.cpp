// Activations: Sigmoid ... Gelu, Shrink, Clip and PRelu. Attribute defaults are ONNX opset 17's
// (Gelu follows its opset-20 definition, which kiln's fusion passes produce).
#include <cmath>
#include <numbers>

#include "backends/reference/kernels/elementwise_util.h"

namespace kiln::reference::elementwise {
namespace {

constexpr float kLeakyReluAlpha = 0.01f;
constexpr float kHardSigmoidAlpha = 0.2f;
constexpr float kHardSigmoidBeta = 0.5f;
constexpr float kEluAlpha = 1.0f;
constexpr float kCeluAlpha = 1.0f;
constexpr float kThresholdedReluAlpha = 1.0f;
constexpr float kSeluAlpha = 1.67326319217681884765625f;
constexpr float kSeluGamma = 1.05070102214813232421875f;
constexpr float kShrinkBias = 0.0f;
constexpr float kShrinkLambd = 0.5f;
constexpr double kHardSwishScale = 1.0 / 6.0;
constexpr double kGeluTanhCubic = 0.044715;

double sigmoid(double x) {
  // Split by sign so exp never overflows.
  if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
  double e = std::exp(x);
  return e / (1.0 + e);
}

double softplus(double x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }

double hard_sigmoid(double x, double alpha, double beta) { return std::max(0.0, std::min(1.0, alpha * x + beta)); }

Status hard_sigmoid_kernel(KernelContext& ctx) {
  const double alpha = ctx.attributes().get_float("alpha", kHardSigmoidAlpha);
  const double beta = ctx.attributes().get_float("beta", kHardSigmoidBeta);
  return float_unary(ctx, [=](double x) { return hard_sigmoid(x, alpha, beta); });
}

Status hard_swish_kernel(KernelContext& ctx) {
  return float_unary(ctx, [](double x) { return x * hard_sigmoid(x, kHardSwishScale, 0.5); });
}

Status relu_kernel(KernelContext& ctx) {
  return numeric_unary(ctx, kFloats | kSignedInts, [](double x) { return x < 0 ? 0.0 : x; },
                       [](auto v) { return v < 0 ? decltype(v){0} : v; });
}

Status leaky_relu_kernel(KernelContext& ctx) {
  const double alpha = ctx.attributes().get_float("alpha", kLeakyReluAlpha);
  return float_unary(ctx, [=](double x) { return x < 0 ? alpha * x : x; });
}

Status elu_kernel(KernelContext& ctx) {
  const double alpha = ctx.attributes().get_float("alpha", kEluAlpha);
  return float_unary(ctx, [=](double x) { return x < 0 ? alpha * std::expm1(x) : x; });
}

Status selu_kernel(KernelContext& ctx) {
  const double alpha = ctx.attributes().get_float("alpha", kSeluAlpha);
  const double gamma = ctx.attributes().get_float("gamma", kSeluGamma);
  return float_unary(ctx, [=](double x) { return x <= 0 ? gamma * alpha * std::expm1(x) : gamma * x; });
}

Status celu_kernel(KernelContext& ctx) {
  const double alpha = ctx.attributes().get_float("alpha", kCeluAlpha);
  if (alpha == 0.0) return invalid_argument("Celu: attribute 'alpha' must not be 0");
  return float_unary(ctx, [=](double x) { return std::max(0.0, x) + std::min(0.0, alpha * std::expm1(x / alpha)); });
}

Status thresholded_relu_kernel(KernelContext& ctx) {
  const double alpha = ctx.attributes().get_float("alpha", kThresholdedReluAlpha);
  return float_unary(ctx, [=](double x) { return x > alpha ? x : 0.0; });
}

Status gelu_kernel(KernelContext& ctx) {
  const std::string approximate = ctx.attributes().get_string("approximate", "none");
  if (approximate == "none")
    return float_unary(ctx, [](double x) { return 0.5 * x * (1.0 + std::erf(x / std::numbers::sqrt2)); });
  if (approximate == "tanh") {
    const double scale = std::sqrt(2.0 / std::numbers::pi);
    return float_unary(ctx, [=](double x) {
      return 0.5 * x * (1.0 + std::tanh(scale * (x + kGeluTanhCubic * x * x * x)));
    });
  }
  return invalid_argument("Gelu: attribute 'approximate' must be \"none\" or \"tanh\", got \"" + approximate + "\"");
}

Status shrink_kernel(KernelContext& ctx) {
  const double bias = ctx.attributes().get_float("bias", kShrinkBias);
  const double lambd = ctx.attributes().get_float("lambd", kShrinkLambd);
  auto shrink = [=](double x) { return x < -lambd ? x + bias : (x > lambd ? x - bias : 0.0); };
  return numeric_unary(ctx, kNumeric, shrink,
                       [=](auto v) { return from_double<decltype(v)>(shrink(to_double(v))); });
}

// Clip(input, min?, max?): absent bounds do not clip. min > max gives max everywhere, as in the
// ONNX reference (min is applied first).
Status clip_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0));
  KILN_RETURN_IF_ERROR(check_dtype(ctx.op, 0, x->dtype(), kNumeric));
  std::array<const Tensor*, 2> bounds{ctx.input(1), ctx.input(2)};
  for (size_t k = 0; k < bounds.size(); ++k) {
    const Tensor* b = bounds[k];
    if (!b || !b->defined()) {
      bounds[k] = nullptr;
      continue;
    }
    KILN_RETURN_IF_ERROR(check_same_dtype(ctx.op, *x, 0, *b, k + 1));
    if (b->numel() != 1)
      return invalid_argument(std::string("Clip: input ") + std::to_string(k + 1) + (k == 0 ? " (min)" : " (max)") +
                              " must be a scalar, got shape " + b->shape().to_string());
  }
  Tensor out(x->dtype(), x->shape());
  visit_dtype(x->dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (kIsFloatLike<T>) {
      const double lo = bounds[0] ? to_double(bounds[0]->data<T>()[0]) : -INFINITY;
      const double hi = bounds[1] ? to_double(bounds[1]->data<T>()[0]) : INFINITY;
      map_unary<T, T>(*x, out, [&](T v) {
        double d = to_double(v);
        if (std::isnan(d)) return v;
        return from_double<T>(std::min(std::max(d, lo), hi));
      });
    } else if constexpr (kIsInt<T>) {
      const T lo = bounds[0] ? bounds[0]->data<T>()[0] : std::numeric_limits<T>::lowest();
      const T hi = bounds[1] ? bounds[1]->data<T>()[0] : std::numeric_limits<T>::max();
      map_unary<T, T>(*x, out, [&](T v) { return std::min(std::max(v, lo), hi); });
    }
  });
  ctx.outputs[0] = std::move(out);
  return {};
}

// PRelu(X, slope): slope broadcasts to X's shape (unidirectional).
Status prelu_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0));
  KILN_ASSIGN_OR_RETURN(const Tensor* slope, required_input(ctx, 1));
  KILN_RETURN_IF_ERROR(check_dtype(ctx.op, 0, x->dtype(), kFloats | kSignedInts | kUnsignedInts));
  KILN_RETURN_IF_ERROR(check_same_dtype(ctx.op, *x, 0, *slope, 1));
  Result<Shape> merged = broadcast_shapes(x->shape(), slope->shape());
  if (!merged.ok() || !(merged.value() == x->shape()))
    return invalid_argument("PRelu: slope of shape " + slope->shape().to_string() +
                            " does not broadcast to X of shape " + x->shape().to_string());
  Tensor out(x->dtype(), x->shape());
  visit_dtype(x->dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (kIsFloatLike<T>) {
      broadcast_binary<T, T, T>(*x, *slope, out, [](T v, T s) {
        double d = to_double(v);
        return d < 0 ? from_double<T>(d * to_double(s)) : v;
      });
    } else if constexpr (kIsInt<T>) {
      broadcast_binary<T, T, T>(*x, *slope, out, [](T v, T s) { return v < T{0} ? wrap_mul(v, s) : v; });
    }
  });
  ctx.outputs[0] = std::move(out);
  return {};
}

}  // namespace

void register_activation_kernels(KernelTable& table) {
  table.add(OpKind::Sigmoid, [](KernelContext& c) { return float_unary(c, sigmoid); });
  table.add(OpKind::Softplus, [](KernelContext& c) { return float_unary(c, softplus); });
  table.add(OpKind::Softsign,
            [](KernelContext& c) { return float_unary(c, [](double x) { return x / (1.0 + std::fabs(x)); }); });
  table.add(OpKind::Mish,
            [](KernelContext& c) { return float_unary(c, [](double x) { return x * std::tanh(softplus(x)); }); });
  table.add(OpKind::HardSigmoid, hard_sigmoid_kernel);
  table.add(OpKind::HardSwish, hard_swish_kernel);
  table.add(OpKind::Relu, relu_kernel);
  table.add(OpKind::LeakyRelu, leaky_relu_kernel);
  table.add(OpKind::Elu, elu_kernel);
  table.add(OpKind::Selu, selu_kernel);
  table.add(OpKind::Celu, celu_kernel);
  table.add(OpKind::ThresholdedRelu, thresholded_relu_kernel);
  table.add(OpKind::Gelu, gelu_kernel);
  table.add(OpKind::Shrink, shrink_kernel);
  table.add(OpKind::Clip, clip_kernel);
  table.add(OpKind::PRelu, prelu_kernel);
}

}  // namespace kiln::reference::elementwise
