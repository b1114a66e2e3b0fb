// Schemas of the axes-based reductions (ReduceSum, ReduceMean, ...), in their opset-18 form:
// data, an optional int64 axes input, attributes keepdims and noop_with_empty_axes. The
// single-axis ops of the family (ArgMax, ArgMin, TopK, CumSum) live in reduce_index.cpp.
#include <string>

#include "ir/ops/families.h"
#include "ir/ops/infer_util.h"
#include "ir/ops/reduce_family.h"

namespace kiln::ir {
namespace reduce_detail {

bool is_reducible_dtype(DType dtype) {
  return dtype != DType::kFloat8E4M3 && (dtype_is_floating(dtype) || dtype_is_integer(dtype));
}

Status check_reducible_input(const InferContext& ctx, size_t i) {
  if (!ctx.has_input(i)) return ctx.error("input " + std::to_string(i) + " is required");
  if (!is_reducible_dtype(ctx.input_dtype(i)))
    return ctx.error("input " + std::to_string(i) + " has dtype " + std::string(dtype_name(ctx.input_dtype(i))) +
                     "; the op needs a floating-point or integer tensor");
  return {};
}

Result<int64_t> normalize_axis_for(const InferContext& ctx, int64_t axis, int64_t rank, const std::string& what) {
  if (axis < -rank || axis >= rank)
    return ctx.error(what + " " + std::to_string(axis) + " is out of range for an input of rank " +
                     std::to_string(rank) + " (expected [" + std::to_string(-rank) + ", " +
                     std::to_string(rank - 1) + "])");
  return axis < 0 ? axis + rank : axis;
}

double input_element_flops(const Node& /*node*/, const std::vector<Shape>& inputs,
                           const std::vector<Shape>& /*outputs*/) {
  if (inputs.empty() || !inputs[0].is_static()) return 0.0;
  return static_cast<double>(inputs[0].numel());
}

}  // namespace reduce_detail

namespace {

using reduce_detail::check_reducible_input;
using reduce_detail::normalize_axis_for;

constexpr size_t kDataInput = 0;
constexpr size_t kAxesInput = 1;
constexpr int64_t kDefaultKeepDims = 1;
constexpr int64_t kDefaultNoopWithEmptyAxes = 0;

// Checks the axes input's type; its data (when constant) is read by the caller.
Status check_axes_input(const InferContext& ctx) {
  DType dtype = ctx.input_dtype(kAxesInput);
  if (dtype != DType::kInt64 && dtype != DType::kInt32)
    return ctx.error("input 'axes' must be int64, got " + std::string(dtype_name(dtype)));
  const SymShape* shape = ctx.input_shape(kAxesInput);
  if (shape && shape->size() > 1)
    return ctx.error("input 'axes' must be 1-D, got shape " + sym_shape_to_string(*shape));
  return {};
}

// Axes known only at run time: with keepdims each dim is either kept or becomes 1, so the rank
// is known (and a dim that is already 1 stays 1); without keepdims even the rank is unknown.
void infer_runtime_axes(InferContext& ctx, DType dtype, const SymShape* in, bool keepdims) {
  if (!in || !keepdims) {
    ctx.set_output(0, dtype, std::nullopt);
    return;
  }
  SymShape out = unknown_dims(in->size());
  for (size_t d = 0; d < in->size(); ++d)
    if ((*in)[d].is_known() && (*in)[d].value == 1) out[d] = Dim::known(1);
  ctx.set_output(0, dtype, std::move(out));
}

Status infer_reduce(InferContext& ctx) {
  KILN_RETURN_IF_ERROR(check_reducible_input(ctx, kDataInput));
  const DType dtype = ctx.input_dtype(kDataInput);
  const bool keepdims = ctx.attrs().get_int("keepdims", kDefaultKeepDims) != 0;
  const bool noop_with_empty_axes = ctx.attrs().get_int("noop_with_empty_axes", kDefaultNoopWithEmptyAxes) != 0;
  const SymShape* in = ctx.input_shape(kDataInput);

  std::vector<int64_t> axes;
  if (ctx.has_input(kAxesInput)) {
    KILN_RETURN_IF_ERROR(check_axes_input(ctx));
    std::optional<std::vector<int64_t>> constant = constant_ints(ctx, kAxesInput);
    if (!constant) {
      infer_runtime_axes(ctx, dtype, in, keepdims);
      return {};
    }
    axes = std::move(*constant);
  }
  if (axes.empty() && noop_with_empty_axes) return infer_same_as_input(ctx, kDataInput);
  if (!in) {
    ctx.set_output(0, dtype, std::nullopt);
    return {};
  }

  const auto rank = static_cast<int64_t>(in->size());
  std::vector<bool> reduced(in->size(), axes.empty());
  for (int64_t axis : axes) {
    KILN_ASSIGN_OR_RETURN(int64_t d, normalize_axis_for(ctx, axis, rank, "axes entry"));
    if (reduced[static_cast<size_t>(d)])
      return ctx.error("input 'axes' names axis " + std::to_string(d) + " more than once");
    reduced[static_cast<size_t>(d)] = true;
  }
  SymShape out;
  for (size_t d = 0; d < in->size(); ++d) {
    if (!reduced[d]) out.push_back((*in)[d]);
    else if (keepdims) out.push_back(Dim::known(1));
  }
  ctx.set_output(0, dtype, std::move(out));
  return {};
}

constexpr OpKind kAxesReductions[] = {
    OpKind::ReduceSum,  OpKind::ReduceMean,   OpKind::ReduceMax,       OpKind::ReduceMin,
    OpKind::ReduceProd, OpKind::ReduceL1,     OpKind::ReduceL2,        OpKind::ReduceLogSum,
    OpKind::ReduceLogSumExp, OpKind::ReduceSumSquare,
};

}  // namespace

void register_reduce_schemas(SchemaRegistry& registry) {
  for (OpKind kind : kAxesReductions) {
    registry.add(OpSchema{.kind = kind,
                          .min_inputs = 1,
                          .max_inputs = 2,
                          .min_outputs = 1,
                          .max_outputs = 1,
                          .infer = infer_reduce,
                          .flops = reduce_detail::input_element_flops});
  }
  reduce_detail::register_index_schemas(registry);
}

}  // namespace kiln::ir
