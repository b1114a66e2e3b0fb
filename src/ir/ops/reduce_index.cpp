// Schemas of the single-axis ops of the reduce family: ArgMax/ArgMin (axis, keepdims,
// select_last_index; int64 output), TopK (K input, axis, largest, sorted; values and int64
// indices) and CumSum (axis input, exclusive, reverse).
#include <string>

#include "ir/ops/infer_util.h"
#include "ir/ops/reduce_family.h"

namespace kiln::ir::reduce_detail {
namespace {

constexpr size_t kDataInput = 0;
constexpr int64_t kArgDefaultAxis = 0;
constexpr int64_t kDefaultKeepDims = 1;

constexpr size_t kTopKCountInput = 1;
constexpr int64_t kTopKDefaultAxis = -1;
constexpr size_t kTopKValuesOutput = 0;
constexpr size_t kTopKIndicesOutput = 1;

constexpr size_t kCumSumAxisInput = 1;

Status infer_arg_reduce(InferContext& ctx) {
  KILN_RETURN_IF_ERROR(check_reducible_input(ctx, kDataInput));
  const SymShape* in = ctx.input_shape(kDataInput);
  if (!in) {
    ctx.set_output(0, DType::kInt64, std::nullopt);
    return {};
  }
  const int64_t axis_attr = ctx.attrs().get_int("axis", kArgDefaultAxis);
  KILN_ASSIGN_OR_RETURN(int64_t axis, normalize_axis_for(ctx, axis_attr, static_cast<int64_t>(in->size()),
                                                         "attribute 'axis'"));
  const bool keepdims = ctx.attrs().get_int("keepdims", kDefaultKeepDims) != 0;
  SymShape out;
  for (size_t d = 0; d < in->size(); ++d) {
    if (static_cast<int64_t>(d) != axis) out.push_back((*in)[d]);
    else if (keepdims) out.push_back(Dim::known(1));
  }
  ctx.set_output(0, DType::kInt64, std::move(out));
  return {};
}

// A "single integer" input (TopK's K, CumSum's axis): int32/int64, a scalar or a 1-element
// 1-D tensor. Returns its value when constant.
Result<std::optional<int64_t>> single_int_input(const InferContext& ctx, size_t i, const std::string& what,
                                                bool allow_int32) {
  if (!ctx.has_input(i)) return ctx.error("input '" + what + "' is required");
  DType dtype = ctx.input_dtype(i);
  if (dtype != DType::kInt64 && !(allow_int32 && dtype == DType::kInt32))
    return ctx.error("input '" + what + "' must be " + (allow_int32 ? "int32 or int64" : "int64") + ", got " +
                     std::string(dtype_name(dtype)));
  const SymShape* shape = ctx.input_shape(i);
  if (shape) {
    bool single = shape->empty() || (shape->size() == 1 && (!(*shape)[0].is_known() || (*shape)[0].value == 1));
    if (!single)
      return ctx.error("input '" + what + "' must hold a single value, got shape " + sym_shape_to_string(*shape));
  }
  std::optional<std::vector<int64_t>> values = constant_ints(ctx, i);
  if (!values) return std::optional<int64_t>();
  if (values->size() != 1)
    return ctx.error("input '" + what + "' must hold a single value, got " + std::to_string(values->size()));
  return std::optional<int64_t>((*values)[0]);
}

Status infer_topk(InferContext& ctx) {
  KILN_RETURN_IF_ERROR(check_reducible_input(ctx, kDataInput));
  const DType dtype = ctx.input_dtype(kDataInput);
  KILN_ASSIGN_OR_RETURN(std::optional<int64_t> k, single_int_input(ctx, kTopKCountInput, "K", false));
  if (k && *k < 0) return ctx.error("input 'K' must be non-negative, got " + std::to_string(*k));
  const SymShape* in = ctx.input_shape(kDataInput);
  if (!in) {
    ctx.set_output(kTopKValuesOutput, dtype, std::nullopt);
    ctx.set_output(kTopKIndicesOutput, DType::kInt64, std::nullopt);
    return {};
  }
  const int64_t axis_attr = ctx.attrs().get_int("axis", kTopKDefaultAxis);
  KILN_ASSIGN_OR_RETURN(int64_t axis, normalize_axis_for(ctx, axis_attr, static_cast<int64_t>(in->size()),
                                                         "attribute 'axis'"));
  SymShape out = *in;
  Dim& dim = out[static_cast<size_t>(axis)];
  if (k) {
    if (dim.is_known() && *k > dim.value)
      return ctx.error("input 'K' is " + std::to_string(*k) + " but axis " + std::to_string(axis) + " has only " +
                       std::to_string(dim.value) + " elements");
    dim = Dim::known(*k);
  } else {
    dim = Dim{};
  }
  ctx.set_output(kTopKValuesOutput, dtype, out);
  ctx.set_output(kTopKIndicesOutput, DType::kInt64, std::move(out));
  return {};
}

Status infer_cumsum(InferContext& ctx) {
  KILN_RETURN_IF_ERROR(check_reducible_input(ctx, kDataInput));
  KILN_ASSIGN_OR_RETURN(std::optional<int64_t> axis, single_int_input(ctx, kCumSumAxisInput, "axis", true));
  const SymShape* in = ctx.input_shape(kDataInput);
  if (axis && in) {
    KILN_RETURN_IF_ERROR(
        normalize_axis_for(ctx, *axis, static_cast<int64_t>(in->size()), "input 'axis'").status());
  }
  return infer_same_as_input(ctx, kDataInput);
}

}  // namespace

void register_index_schemas(SchemaRegistry& registry) {
  for (OpKind kind : {OpKind::ArgMax, OpKind::ArgMin}) {
    registry.add(OpSchema{.kind = kind, .min_inputs = 1, .max_inputs = 1, .min_outputs = 1, .max_outputs = 1,
                          .infer = infer_arg_reduce, .flops = input_element_flops});
  }
  registry.add(OpSchema{.kind = OpKind::TopK, .min_inputs = 2, .max_inputs = 2, .min_outputs = 2, .max_outputs = 2,
                        .infer = infer_topk, .flops = input_element_flops});
  registry.add(OpSchema{.kind = OpKind::CumSum, .min_inputs = 2, .max_inputs = 2, .min_outputs = 1,
                        .max_outputs = 1, .infer = infer_cumsum, .flops = input_element_flops});
}

}  // namespace kiln::ir::reduce_detail
