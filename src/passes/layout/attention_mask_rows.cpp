#include "passes/layout/attention_mask_rows.h"

#include <cstring>
#include <map>
#include <vector>

#include "passes/graph_rewrite.h"
#include "passes/pattern.h"

namespace kiln::passes {
namespace {

constexpr size_t kMaskInput = 3;
constexpr int64_t kQueryAxis = 2;  // of the rank-4 [B, H, Sq, Sk] mask
constexpr int kMaxDepth = 24;
constexpr int64_t kMaxConstantElements = int64_t{1} << 24;

// Elementwise (broadcasting) ops: the output is uniform along an axis when every input is.
bool is_elementwise(OpKind op) {
  switch (op) {
    case OpKind::Add: case OpKind::Sub: case OpKind::Mul: case OpKind::Div: case OpKind::And: case OpKind::Or:
    case OpKind::Xor: case OpKind::Not: case OpKind::Where: case OpKind::Cast: case OpKind::Equal: case OpKind::Less:
    case OpKind::Greater: case OpKind::LessOrEqual: case OpKind::GreaterOrEqual: case OpKind::Neg: case OpKind::Identity:
    case OpKind::Expand:
      return true;
    default:
      return false;
  }
}

// The bytes of a constant are equal along `axis` (every index equals index 0 there).
bool constant_uniform(const Tensor& t, size_t axis) {
  if (t.numel() > kMaxConstantElements) return false;
  const std::vector<int64_t>& dims = t.shape().dims();
  int64_t inner = 1;
  for (size_t i = axis + 1; i < dims.size(); ++i) inner *= dims[i];
  const int64_t extent = dims[axis];
  const int64_t outer = extent == 0 ? 0 : t.numel() / (extent * inner);
  const size_t element = dtype_size(t.dtype());
  const auto* bytes = static_cast<const std::byte*>(t.raw_data());
  const size_t row = static_cast<size_t>(inner) * element;
  for (int64_t o = 0; o < outer; ++o) {
    const std::byte* first = bytes + static_cast<size_t>(o * extent * inner) * element;
    for (int64_t i = 1; i < extent; ++i)
      if (std::memcmp(first, first + static_cast<size_t>(i) * row, row) != 0) return false;
  }
  return true;
}

// `value` (of rank `rank`, right-aligned against the rank-4 mask) does not vary along kQueryAxis.
bool uniform_along_query(const ir::Graph& graph, const ir::Value* value, int depth) {
  if (!value || depth > kMaxDepth) return false;
  const std::optional<Shape> shape = static_shape(value);
  if (!shape) return false;
  const int64_t axis = kQueryAxis - (4 - static_cast<int64_t>(shape->rank()));
  if (axis < 0 || (*shape)[static_cast<size_t>(axis)] == 1) return true;  // broadcast along it
  if (value->is_constant()) return is_fixed_constant(graph, value) && constant_uniform(*value->constant(), static_cast<size_t>(axis));
  const ir::Node* producer = value->producer();
  if (!producer || !is_elementwise(producer->op())) return false;
  // Expand's second input is the target shape, not data.
  const size_t data_inputs = producer->op() == OpKind::Expand ? 1 : producer->inputs().size();
  for (size_t i = 0; i < data_inputs; ++i) {
    const ir::Value* in = producer->input(i);
    if (!in) continue;
    const std::optional<Shape> in_shape = static_shape(in);
    if (!in_shape || in_shape->rank() > shape->rank()) return false;
    if (!uniform_along_query(graph, in, depth + 1)) return false;
  }
  return true;
}

}  // namespace

Result<bool> shrink_uniform_attention_masks(ir::Graph& graph) {
  std::vector<ir::Node*> candidates;
  for (const auto& node : graph.nodes())
    if (node->op() == OpKind::ScaledDotProductAttention && node->input(kMaskInput)) candidates.push_back(node.get());
  bool changed = false;
  std::map<const ir::Value*, ir::Value*> rows;  // one Slice per mask, shared by every layer
  for (ir::Node* attention : candidates) {
    ir::Value* mask = attention->input(kMaskInput);
    if (auto it = rows.find(mask); it != rows.end()) {
      attention->set_input(kMaskInput, it->second);
      changed = true;
      continue;
    }
    const std::optional<Shape> shape = static_shape(mask);
    if (!shape || shape->rank() != 4 || (*shape)[kQueryAxis] <= 1) continue;
    if (!uniform_along_query(graph, mask, 0)) continue;
    const std::string name = attention->name() + "/mask_row";
    ir::Value* starts = graph.add_constant(name + "/starts", tensor_from_doubles(DType::kInt64, Shape{1}, {0}));
    ir::Value* ends = graph.add_constant(name + "/ends", tensor_from_doubles(DType::kInt64, Shape{1}, {1}));
    ir::Value* axes = graph.add_constant(name + "/axes", tensor_from_doubles(DType::kInt64, Shape{1}, {kQueryAxis}));
    ir::Value* row = graph.add_value(name);
    graph.add_node(OpKind::Slice, name, {mask, starts, ends, axes}, {row});
    attention->set_input(kMaskInput, row);
    rows[mask] = row;
    changed = true;
  }
  if (!changed) return false;
  KILN_RETURN_IF_ERROR(finish_rewrites(graph));
  return true;
}

}  // namespace kiln::passes
