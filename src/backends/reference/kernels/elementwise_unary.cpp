// Unary math (Abs ... Erf), the predicates IsNaN/IsInf/Not, Identity and Dropout.
#include <cmath>

#include "backends/reference/kernels/elementwise_util.h"

namespace kiln::reference::elementwise {
namespace {

// Round half to even, independent of the floating-point environment's rounding mode.
double round_half_to_even(double x) {
  double r = std::round(x);  // rounds halves away from zero
  if (std::fabs(x - std::trunc(x)) == 0.5) r = 2.0 * std::round(x / 2.0);
  return r;
}

template <class T>
T int_abs(T v) {
  if constexpr (std::is_signed_v<T>) return v < 0 ? wrap_neg(v) : v;
  else return v;
}

template <class T>
T int_sign(T v) {
  if constexpr (std::is_signed_v<T>) return static_cast<T>(v > 0 ? 1 : (v < 0 ? -1 : 0));
  else return static_cast<T>(v > 0 ? 1 : 0);
}

double float_sign(double v) {
  if (std::isnan(v)) return v;
  return v > 0 ? 1.0 : (v < 0 ? -1.0 : 0.0);
}

Status abs_kernel(KernelContext& ctx) {
  return numeric_unary(ctx, kNumeric, [](double x) { return std::fabs(x); }, [](auto v) { return int_abs(v); });
}
Status neg_kernel(KernelContext& ctx) {
  return numeric_unary(ctx, kFloats | kSignedInts, [](double x) { return -x; }, [](auto v) { return wrap_neg(v); });
}
Status sign_kernel(KernelContext& ctx) {
  return numeric_unary(ctx, kNumeric, float_sign, [](auto v) { return int_sign(v); });
}
Status erf_kernel(KernelContext& ctx) {
  // Erf accepts integers too; erf of an integer is 0 or +-1 after truncation.
  return numeric_unary(ctx, kNumeric, [](double x) { return std::erf(x); },
                       [](auto v) { return from_double<decltype(v)>(std::erf(to_double(v))); });
}

Status not_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0));
  KILN_RETURN_IF_ERROR(check_dtype(ctx.op, 0, x->dtype(), kBoolOnly));
  Tensor out(DType::kBool, x->shape());
  map_unary<bool, bool>(*x, out, [](bool v) { return !v; });
  ctx.outputs[0] = std::move(out);
  return {};
}

// Output 0 (bool) = pred(x as double) for a float input.
template <class Pred>
Status float_predicate(KernelContext& ctx, Pred&& pred) {
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0));
  KILN_RETURN_IF_ERROR(check_dtype(ctx.op, 0, x->dtype(), kFloats));
  Tensor out(DType::kBool, x->shape());
  visit_dtype(x->dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (kIsFloatLike<T>) map_unary<T, bool>(*x, out, [&](T v) { return pred(to_double(v)); });
  });
  ctx.outputs[0] = std::move(out);
  return {};
}

Status is_nan_kernel(KernelContext& ctx) {
  return float_predicate(ctx, [](double v) { return std::isnan(v); });
}

Status is_inf_kernel(KernelContext& ctx) {
  const bool positive = ctx.attributes().get_int("detect_positive", 1) != 0;
  const bool negative = ctx.attributes().get_int("detect_negative", 1) != 0;
  return float_predicate(ctx, [&](double v) { return std::isinf(v) && (v > 0 ? positive : negative); });
}

Status identity_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0));
  ctx.outputs[0] = x->clone();
  return {};
}

// Dropout in inference is the identity with an all-true mask. Training with a non-zero ratio
// needs a random generator whose stream matches some framework's; kiln does not train.
constexpr double kDefaultDropoutRatio = 0.5;

Status dropout_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0));
  KILN_RETURN_IF_ERROR(check_dtype(ctx.op, 0, x->dtype(), kFloats));
  double ratio = kDefaultDropoutRatio;
  if (const Tensor* r = ctx.input(1); r && r->defined()) {
    KILN_RETURN_IF_ERROR(check_dtype(ctx.op, 1, r->dtype(), kFloats));
    if (r->numel() != 1)
      return invalid_argument("Dropout: input 1 (ratio) must be a scalar, got shape " + r->shape().to_string());
    ratio = to_doubles(*r)[0];
  }
  bool training = false;
  if (const Tensor* t = ctx.input(2); t && t->defined()) {
    KILN_RETURN_IF_ERROR(check_dtype(ctx.op, 2, t->dtype(), kBoolOnly));
    if (t->numel() != 1)
      return invalid_argument("Dropout: input 2 (training_mode) must be a scalar, got shape " +
                              t->shape().to_string());
    training = t->data<bool>()[0];
  }
  if (training && ratio != 0.0)
    return unimplemented("Dropout: training_mode=true with ratio " + std::to_string(ratio) +
                         " is not supported (kiln runs inference only; export the model in eval mode)");
  ctx.outputs[0] = x->clone();
  if (ctx.num_outputs() > 1) {
    Tensor mask(DType::kBool, x->shape());
    std::fill(mask.data<bool>(), mask.data<bool>() + mask.numel(), true);
    ctx.outputs[1] = std::move(mask);
  }
  return {};
}

}  // namespace

void register_unary_math_kernels(KernelTable& table) {
  table.add(OpKind::Abs, abs_kernel);
  table.add(OpKind::Neg, neg_kernel);
  table.add(OpKind::Sign, sign_kernel);
  table.add(OpKind::Erf, erf_kernel);
  table.add(OpKind::Exp, [](KernelContext& c) { return float_unary(c, [](double x) { return std::exp(x); }); });
  table.add(OpKind::Log, [](KernelContext& c) { return float_unary(c, [](double x) { return std::log(x); }); });
  table.add(OpKind::Sqrt, [](KernelContext& c) { return float_unary(c, [](double x) { return std::sqrt(x); }); });
  table.add(OpKind::Reciprocal, [](KernelContext& c) { return float_unary(c, [](double x) { return 1.0 / x; }); });
  table.add(OpKind::Floor, [](KernelContext& c) { return float_unary(c, [](double x) { return std::floor(x); }); });
  table.add(OpKind::Ceil, [](KernelContext& c) { return float_unary(c, [](double x) { return std::ceil(x); }); });
  table.add(OpKind::Round, [](KernelContext& c) { return float_unary(c, round_half_to_even); });
  table.add(OpKind::Sin, [](KernelContext& c) { return float_unary(c, [](double x) { return std::sin(x); }); });
  table.add(OpKind::Cos, [](KernelContext& c) { return float_unary(c, [](double x) { return std::cos(x); }); });
  table.add(OpKind::Tan, [](KernelContext& c) { return float_unary(c, [](double x) { return std::tan(x); }); });
  table.add(OpKind::Asin, [](KernelContext& c) { return float_unary(c, [](double x) { return std::asin(x); }); });
  table.add(OpKind::Acos, [](KernelContext& c) { return float_unary(c, [](double x) { return std::acos(x); }); });
  table.add(OpKind::Atan, [](KernelContext& c) { return float_unary(c, [](double x) { return std::atan(x); }); });
  table.add(OpKind::Sinh, [](KernelContext& c) { return float_unary(c, [](double x) { return std::sinh(x); }); });
  table.add(OpKind::Cosh, [](KernelContext& c) { return float_unary(c, [](double x) { return std::cosh(x); }); });
  table.add(OpKind::Tanh, [](KernelContext& c) { return float_unary(c, [](double x) { return std::tanh(x); }); });
  table.add(OpKind::Asinh, [](KernelContext& c) { return float_unary(c, [](double x) { return std::asinh(x); }); });
  table.add(OpKind::Acosh, [](KernelContext& c) { return float_unary(c, [](double x) { return std::acosh(x); }); });
  table.add(OpKind::Atanh, [](KernelContext& c) { return float_unary(c, [](double x) { return std::atanh(x); }); });
  table.add(OpKind::Not, not_kernel);
  table.add(OpKind::IsNaN, is_nan_kernel);
  table.add(OpKind::IsInf, is_inf_kernel);
  table.add(OpKind::Identity, identity_kernel);
  table.add(OpKind::Dropout, dropout_kernel);
}

}  // namespace kiln::reference::elementwise
