#include "passes/fold/shape_to_constant.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "ir/shape_inference.h"

namespace kiln::passes {
namespace {

std::optional<std::vector<int64_t>> static_dims(const ir::Value* value) {
  if (!value || !value->type().shape) return std::nullopt;
  std::vector<int64_t> dims;
  for (const ir::Dim& d : *value->type().shape) {
    if (!d.is_known()) return std::nullopt;
    dims.push_back(d.value);
  }
  return dims;
}

// Shape's start/end attributes (opset 15+): negative counts from the back, then clamped.
int64_t clamp_axis(int64_t axis, int64_t rank) {
  if (axis < 0) axis += rank;
  return std::clamp<int64_t>(axis, 0, rank);
}

std::optional<Tensor> fold_value(const ir::Node& node) {
  auto dims = static_dims(node.input(0));
  if (!dims) return std::nullopt;
  if (node.op() == OpKind::Size) {
    int64_t count = 1;
    for (int64_t d : *dims) count *= d;
    return Tensor::from_vector<int64_t>(DType::kInt64, Shape{}, {count});
  }
  const auto rank = static_cast<int64_t>(dims->size());
  const int64_t start = clamp_axis(node.attrs().get_int("start", 0), rank);
  const int64_t end = std::max(start, clamp_axis(node.attrs().get_int("end", rank), rank));
  std::vector<int64_t> slice(dims->begin() + start, dims->begin() + end);
  return Tensor::from_vector<int64_t>(DType::kInt64, Shape{static_cast<int64_t>(slice.size())}, slice);
}

}  // namespace

Result<bool> fold_shapes_to_constants(ir::Graph& graph) {
  KILN_RETURN_IF_ERROR(ir::infer_shapes(graph));
  std::vector<ir::Node*> folded;
  for (const auto& node : graph.nodes()) {
    if (node->op() != OpKind::Shape && node->op() != OpKind::Size) continue;
    ir::Value* out = node->output(0);
    if (!out) continue;
    std::optional<Tensor> value = fold_value(*node);
    if (!value) continue;
    out->set_constant(std::move(*value));
    folded.push_back(node.get());
  }
  for (ir::Node* node : folded) graph.remove_node(node);
  if (folded.empty()) return false;
  graph.remove_unused_values();
  return true;
}

}  // namespace kiln::passes
