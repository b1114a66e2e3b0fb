// Schemas of the elementwise family (ONNX opset 17 forms): unary math and activations, and the
// binary/variadic ops that broadcast numpy-style.
#include <algorithm>
#include <string>

#include "core/onnx_dtype.h"
#include "ir/ops/families.h"
#include "ir/ops/infer_util.h"

namespace kiln::ir {
namespace {

// Transcendental functions (exp, log, erf, tanh, ...) cost several multiply-adds each; a flat
// estimate keeps cost reports honest without pretending to model libm.
constexpr double kTranscendentalFlops = 8.0;

double output_elements(const std::vector<Shape>& outputs) {
  if (outputs.empty()) return 0.0;
  double n = 1.0;
  for (int64_t d : outputs[0].dims()) {
    if (d < 0) return 0.0;
    n *= static_cast<double>(d);
  }
  return n;
}

double transcendental_flops(const Node&, const std::vector<Shape>&, const std::vector<Shape>& outputs) {
  return kTranscendentalFlops * output_elements(outputs);
}

Status require_same_dtypes(const InferContext& ctx, size_t first, size_t last) {
  DType expected = DType::kUndefined;
  size_t reference_input = 0;
  for (size_t i = first; i < std::min(last, ctx.num_inputs()); ++i) {
    if (!ctx.has_input(i)) continue;
    if (expected == DType::kUndefined) {
      expected = ctx.input_dtype(i);
      reference_input = i;
    } else if (ctx.input_dtype(i) != expected) {
      return ctx.error("input " + std::to_string(i) + " has dtype " + std::string(dtype_name(ctx.input_dtype(i))) +
                       " but input " + std::to_string(reference_input) + " has dtype " +
                       std::string(dtype_name(expected)) + "; they must match");
    }
  }
  return {};
}

Status infer_unary(InferContext& ctx) { return infer_same_as_input(ctx, 0); }

Status infer_unary_bool(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.error("input 0 is required");
  ctx.set_output(0, DType::kBool, ctx.input_type(0).shape);
  return {};
}

Status infer_not(InferContext& ctx) {
  if (ctx.has_input(0) && ctx.input_dtype(0) != DType::kBool)
    return ctx.error("Not takes a bool input, got " + std::string(dtype_name(ctx.input_dtype(0))));
  return infer_unary_bool(ctx);
}

// Same-typed inputs broadcast together; output has their dtype (Add, Max, Sum, ...).
Status infer_broadcast_same(InferContext& ctx) {
  KILN_RETURN_IF_ERROR(require_same_dtypes(ctx, 0, ctx.num_inputs()));
  KILN_ASSIGN_OR_RETURN(std::optional<SymShape> shape, broadcast_inputs(ctx));
  ctx.set_output(0, ctx.input_dtype(0), std::move(shape));
  return {};
}

Status infer_compare(InferContext& ctx) {
  KILN_RETURN_IF_ERROR(require_same_dtypes(ctx, 0, ctx.num_inputs()));
  KILN_ASSIGN_OR_RETURN(std::optional<SymShape> shape, broadcast_inputs(ctx));
  ctx.set_output(0, DType::kBool, std::move(shape));
  return {};
}

Status infer_logic(InferContext& ctx) {
  for (size_t i = 0; i < ctx.num_inputs(); ++i)
    if (ctx.has_input(i) && ctx.input_dtype(i) != DType::kBool)
      return ctx.error("input " + std::to_string(i) + " must be bool, got " +
                       std::string(dtype_name(ctx.input_dtype(i))));
  return infer_compare(ctx);
}

// Pow: base and exponent may differ in type; the output takes the base's.
Status infer_pow(InferContext& ctx) {
  KILN_ASSIGN_OR_RETURN(std::optional<SymShape> shape, broadcast_inputs(ctx));
  ctx.set_output(0, ctx.input_dtype(0), std::move(shape));
  return {};
}

Status infer_where(InferContext& ctx) {
  if (ctx.input_dtype(0) != DType::kBool)
    return ctx.error("input 0 (condition) must be bool, got " + std::string(dtype_name(ctx.input_dtype(0))));
  KILN_RETURN_IF_ERROR(require_same_dtypes(ctx, 1, 3));
  KILN_ASSIGN_OR_RETURN(std::optional<SymShape> shape, broadcast_inputs(ctx));
  ctx.set_output(0, ctx.input_dtype(1), std::move(shape));
  return {};
}

// PRelu: slope broadcasts to X (unidirectionally), so the output is X.
Status infer_prelu(InferContext& ctx) {
  KILN_RETURN_IF_ERROR(require_same_dtypes(ctx, 0, 2));
  KILN_ASSIGN_OR_RETURN(std::optional<SymShape> shape, broadcast_inputs(ctx));
  const SymShape* x = ctx.input_shape(0);
  if (shape && x && shape->size() != x->size())
    return ctx.error("slope of rank " + std::to_string(ctx.input_shape(1)->size()) +
                     " does not broadcast to X of rank " + std::to_string(x->size()));
  if (shape && x)
    for (size_t d = 0; d < x->size(); ++d)
      if ((*x)[d].is_known() && (*shape)[d].is_known() && (*x)[d].value != (*shape)[d].value)
        return ctx.error("slope does not broadcast to X: dimension " + std::to_string(d) + " of X is " +
                         std::to_string((*x)[d].value));
  return infer_same_as_input(ctx, 0);
}

Status infer_clip(InferContext& ctx) {
  KILN_RETURN_IF_ERROR(require_same_dtypes(ctx, 0, 3));
  return infer_same_as_input(ctx, 0);
}

Status infer_cast(InferContext& ctx) {
  KILN_ASSIGN_OR_RETURN(int64_t to, ctx.attrs().require_int("to"));
  std::optional<DType> dtype = dtype_from_onnx(static_cast<int32_t>(to));
  if (!dtype || to != static_cast<int32_t>(to))
    return ctx.error("attribute 'to' = " + std::to_string(to) + " is not an ONNX data type kiln supports");
  ctx.set_output(0, *dtype, ctx.input_type(0).shape);
  return {};
}

Status infer_cast_like(InferContext& ctx) {
  ctx.set_output(0, ctx.input_dtype(1), ctx.input_type(0).shape);
  return {};
}

Status infer_dropout(InferContext& ctx) {
  KILN_RETURN_IF_ERROR(infer_same_as_input(ctx, 0));
  if (ctx.num_outputs() > 1) ctx.set_output(1, DType::kBool, ctx.input_type(0).shape);
  return {};
}

Status infer_bitshift(InferContext& ctx) {
  std::string direction = ctx.attrs().get_string("direction", "");
  if (direction != "LEFT" && direction != "RIGHT")
    return ctx.error("attribute 'direction' must be \"LEFT\" or \"RIGHT\", got \"" + direction + "\"");
  return infer_broadcast_same(ctx);
}

OpSchema unary(OpKind kind, InferFn infer = infer_unary, FlopsFn flops = nullptr) {
  return OpSchema{kind, 1, 1, 1, 1, infer, flops};
}

OpSchema transcendental(OpKind kind) { return unary(kind, infer_unary, transcendental_flops); }

OpSchema nary(OpKind kind, int min_inputs, int max_inputs, InferFn infer) {
  return OpSchema{kind, min_inputs, max_inputs, 1, 1, infer, nullptr};
}

}  // namespace

void register_elementwise_schemas(SchemaRegistry& registry) {
  for (OpKind kind : {OpKind::Abs, OpKind::Neg, OpKind::Reciprocal, OpKind::Floor, OpKind::Ceil,
                      OpKind::Round, OpKind::Sign, OpKind::Relu, OpKind::LeakyRelu, OpKind::HardSigmoid,
                      OpKind::HardSwish, OpKind::ThresholdedRelu, OpKind::Softsign, OpKind::Shrink,
                      OpKind::Identity})
    registry.add(unary(kind));
  for (OpKind kind : {OpKind::Exp, OpKind::Log, OpKind::Sqrt, OpKind::Sin, OpKind::Cos, OpKind::Tan,
                      OpKind::Asin, OpKind::Acos, OpKind::Atan, OpKind::Sinh, OpKind::Cosh, OpKind::Tanh,
                      OpKind::Asinh, OpKind::Acosh, OpKind::Atanh, OpKind::Erf, OpKind::Sigmoid, OpKind::Elu,
                      OpKind::Selu, OpKind::Celu, OpKind::Softplus, OpKind::Mish, OpKind::Gelu})
    registry.add(transcendental(kind));
  registry.add(unary(OpKind::Not, infer_not));
  registry.add(unary(OpKind::IsNaN, infer_unary_bool));
  registry.add(unary(OpKind::IsInf, infer_unary_bool));
  registry.add(unary(OpKind::Cast, infer_cast));
  registry.add(nary(OpKind::CastLike, 2, 2, infer_cast_like));
  registry.add(nary(OpKind::PRelu, 2, 2, infer_prelu));
  registry.add(nary(OpKind::Clip, 1, 3, infer_clip));
  // Dropout(data, ratio?, training_mode?) -> (output, mask?)
  registry.add(OpSchema{OpKind::Dropout, 1, 3, 1, 2, infer_dropout, nullptr});

  for (OpKind kind : {OpKind::Add, OpKind::Sub, OpKind::Mul, OpKind::Div, OpKind::Mod})
    registry.add(nary(kind, 2, 2, infer_broadcast_same));
  registry.add(nary(OpKind::Pow, 2, 2, infer_pow));
  registry.add(nary(OpKind::BitShift, 2, 2, infer_bitshift));
  for (OpKind kind : {OpKind::Max, OpKind::Min, OpKind::Sum, OpKind::Mean})
    registry.add(nary(kind, 1, kVariadic, infer_broadcast_same));
  for (OpKind kind : {OpKind::Equal, OpKind::Greater, OpKind::GreaterOrEqual, OpKind::Less, OpKind::LessOrEqual})
    registry.add(nary(kind, 2, 2, infer_compare));
  for (OpKind kind : {OpKind::And, OpKind::Or, OpKind::Xor}) registry.add(nary(kind, 2, 2, infer_logic));
  registry.add(nary(OpKind::Where, 3, 3, infer_where));
}

}  // namespace kiln::ir
