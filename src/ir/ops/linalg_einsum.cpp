// Schema of Einsum: the equation fixes the output's dims from the operands' labelled dims.
#include <algorithm>
#include <string>

#include "core/einsum_equation.h"
#include "ir/ops/infer_util.h"
#include "ir/ops/linalg_schemas.h"

namespace kiln::ir::linalg {
namespace {

// Merges what an operand says about a label's size; 1 broadcasts (ellipsis dims).
Status merge_label_dim(const InferContext& ctx, Dim& label, const Dim& dim) {
  if (label == Dim{}) {
    label = dim;
    return {};
  }
  if (dim.is_known() && dim.value == 1) return {};
  if (label.is_known() && label.value == 1) {
    label = dim;
    return {};
  }
  if (label.is_known() && dim.is_known() && label.value != dim.value)
    return ctx.error("a subscript is used for dims of sizes " + std::to_string(label.value) + " and " +
                     std::to_string(dim.value));
  if (!label.is_known() && dim.is_known()) label = dim;
  return {};
}

Status infer_einsum(InferContext& ctx) {
  auto equation = ctx.attrs().get_string("equation", "");
  if (equation.empty()) return ctx.error("attribute equation is required");
  if (ctx.num_inputs() == 0) return ctx.error("at least one input is required");
  std::vector<size_t> ranks;
  const DType dtype = ctx.input_dtype(0);
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    if (!ctx.has_input(i)) return ctx.error("input " + std::to_string(i) + " is missing");
    if (ctx.input_dtype(i) != dtype) return ctx.error("all inputs must have the same dtype");
    const SymShape* s = ctx.input_shape(i);
    if (!s) {
      ctx.set_output(0, dtype, std::nullopt);
      return {};
    }
    ranks.push_back(s->size());
  }
  auto parsed = parse_einsum_equation(equation, ranks);
  if (!parsed.ok()) return ctx.error(parsed.status().message());
  std::vector<Dim> label_dims(parsed->num_labels);
  for (size_t i = 0; i < ranks.size(); ++i)
    for (size_t d = 0; d < ranks[i]; ++d)
      KILN_RETURN_IF_ERROR(merge_label_dim(ctx, label_dims[parsed->inputs[i][d]], (*ctx.input_shape(i))[d]));
  SymShape out;
  for (size_t label : parsed->output) out.push_back(label_dims[label]);
  ctx.set_output(0, dtype, std::move(out));
  return {};
}

// One multiply-add per operand for every combination of label values.
double einsum_flops(const Node& node, const std::vector<Shape>& inputs, const std::vector<Shape>&) {
  std::vector<size_t> ranks;
  for (const Shape& s : inputs) ranks.push_back(s.rank());
  auto parsed = parse_einsum_equation(node.attrs().get_string("equation", ""), ranks);
  if (!parsed.ok()) return 0.0;
  std::vector<int64_t> sizes(parsed->num_labels, 1);
  for (size_t i = 0; i < inputs.size(); ++i)
    for (size_t d = 0; d < inputs[i].rank(); ++d)
      sizes[parsed->inputs[i][d]] = std::max(sizes[parsed->inputs[i][d]], inputs[i][d]);
  double combos = 1.0;
  for (int64_t s : sizes) combos *= static_cast<double>(s);
  return combos * static_cast<double>(inputs.size());
}

}  // namespace

void register_einsum_schema(SchemaRegistry& registry) {
  registry.add({OpKind::Einsum, 1, kVariadic, 1, 1, infer_einsum, einsum_flops});
}

}  // namespace kiln::ir::linalg
