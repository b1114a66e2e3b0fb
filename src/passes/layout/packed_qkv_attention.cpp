#include "passes/layout/packed_qkv_attention.h"

#include <array>
#include <vector>

#include "core/attention_layout.h"
#include "passes/layout/attention_layout.h"
#include "passes/pattern.h"

namespace kiln::passes {
namespace {

constexpr size_t kOperands = 3;  // Q, K, V

// What the rewrite needs from a matched attention: the packed projection, the nodes that go,
// and the head geometry.
struct PackedMatch {
  ir::Value* projection = nullptr;  // [B, S, 3 H D]
  ir::Node* split = nullptr;
  std::array<ir::Node*, kOperands> reshapes{};
  int64_t heads = 0, head_dim = 0;
};

const ir::SymShape* sym_shape(const ir::Value* v) {
  const auto& shape = v->type().shape;
  return shape ? &*shape : nullptr;
}

// The Split's axis is the last of a rank-3 input (ONNX's default axis is 0).
bool splits_last_axis(const ir::Node& split, size_t rank) {
  int64_t axis = split.attrs().get_int("axis", 0);
  if (axis < 0) axis += static_cast<int64_t>(rank);
  return axis == static_cast<int64_t>(rank) - 1;
}

// Reshape [b, s, H D] -> [b, s, H, D] of Split output `slot`, read only by the attention.
bool is_head_split(const ir::Graph& graph, const ir::Node* reshape, const ir::Node* attention, const ir::SymShape& projection,
                   PackedMatch& m) {
  if (!reshape || !only_read_by(graph, reshape->output(0), attention)) return false;
  const ir::SymShape* out = sym_shape(reshape->output(0));
  if (!out || out->size() != 4 || !(*out)[2].is_known() || !(*out)[3].is_known()) return false;
  if (!((*out)[0] == projection[0]) || !((*out)[1] == projection[1])) return false;
  const int64_t heads = (*out)[2].value, head_dim = (*out)[3].value;
  if (m.heads != 0 && (heads != m.heads || head_dim != m.head_dim)) return false;
  m.heads = heads;
  m.head_dim = head_dim;
  return projection[2].is_known() && projection[2].value == kPackedQkvSlots * heads * head_dim;
}

bool match(const ir::Graph& graph, ir::Node* attention, PackedMatch& m) {
  for (size_t i = 0; i < kOperands; ++i) {
    ir::Node* reshape = producer_of(attention->input(i), OpKind::Reshape);
    if (!reshape) return false;
    ir::Node* split = producer_of(reshape->input(0), OpKind::Split);
    if (!split || (m.split && split != m.split) || split->outputs().size() != kOperands) return false;
    // Split output i is operand i (Q slot 0, K slot 1, V slot 2), read by nothing else.
    if (split->output(i) != reshape->input(0) || !only_read_by(graph, reshape->input(0), reshape)) return false;
    if (!m.split) {
      m.split = split;
      m.projection = split->input(0);
    }
    const ir::SymShape* projection = sym_shape(m.projection);
    if (!projection || projection->size() != 3 || !splits_last_axis(*split, projection->size())) return false;
    if (!is_head_split(graph, reshape, attention, *projection, m)) return false;
    m.reshapes[i] = reshape;
  }
  return true;
}

}  // namespace

Result<bool> use_packed_qkv_attention(ir::Graph& graph) {
  bool changed = false;
  for (ir::Node* attention : attention_nodes_in_layout(graph, QkvLayout::kBSHD)) {
    PackedMatch m;
    if (!match(graph, attention, m)) continue;
    const std::string name = attention->name() + ".packed_qkv";
    // 0 keeps the projection's batch and sequence dims, whatever they are at run time.
    ir::Value* shape = graph.add_constant(
        name + ".shape", Tensor::from_vector<int64_t>(DType::kInt64, Shape{5}, {0, 0, kPackedQkvSlots, m.heads, m.head_dim}));
    ir::Value* packed = graph.add_value(name);
    graph.add_node(OpKind::Reshape, name, {m.projection, shape}, {packed});
    for (size_t i = 0; i < kOperands; ++i) attention->set_input(i, packed);
    attention->mutable_attrs().set(kQkvLayoutAttr, std::string(qkv_layout_name(QkvLayout::kBS3HD)));
    for (ir::Node* reshape : m.reshapes) graph.remove_node(reshape);
    graph.remove_node(m.split);
    changed = true;
  }
  if (!changed) return false;
  KILN_RETURN_IF_ERROR(finish_rewrites(graph));
  return true;
}

}  // namespace kiln::passes
