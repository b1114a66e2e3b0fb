#include "passes/fuse/sibling_merge.h"

#include <map>

#include "passes/pattern.h"

namespace kiln::passes {
namespace {

// Two siblings merge only when everything but the weights is the same.
bool same_configuration(const ir::Node& a, const ir::Node& b) {
  if (a.attrs() != b.attrs() || a.inputs().size() != b.inputs().size()) return false;
  for (size_t i = 2; i < a.inputs().size(); ++i)
    if ((a.input(i) == nullptr) != (b.input(i) == nullptr)) return false;
  return a.output(0)->type().dtype == b.output(0)->type().dtype;
}

}  // namespace

ir::Value* concat_constants(ir::Graph& graph, const std::vector<const ir::Value*>& values, size_t axis,
                            const std::string& name) {
  const Shape& first = values.front()->constant()->shape();
  int64_t outer = 1, inner = 1, total = 0;
  for (size_t d = 0; d < axis; ++d) outer *= first[d];
  for (size_t d = axis + 1; d < first.rank(); ++d) inner *= first[d];
  std::vector<std::vector<double>> data;
  for (const ir::Value* v : values) {
    data.push_back(*constant_values(graph, v));
    total += v->constant()->shape()[axis];
  }
  std::vector<double> out;
  out.reserve(static_cast<size_t>(outer * total * inner));
  for (int64_t o = 0; o < outer; ++o) {
    for (size_t k = 0; k < values.size(); ++k) {
      const int64_t block = values[k]->constant()->shape()[axis] * inner;
      const auto begin = data[k].begin() + o * block;
      out.insert(out.end(), begin, begin + block);
    }
  }
  std::vector<int64_t> dims = first.dims();
  dims[axis] = total;
  return graph.add_constant(name, tensor_from_doubles(values.front()->type().dtype, Shape(dims), out));
}

Result<bool> merge_siblings(ir::Graph& graph, OpKind op, const SiblingRule& rule) {
  // Readers of each value, in graph order, that may join a group.
  std::map<const ir::Value*, std::vector<ir::Node*>> by_input;
  std::vector<const ir::Value*> order;
  for (const auto& node : graph.nodes()) {
    if (node->op() != op || !node->input(0) || !node->output(0) || !rule.eligible(graph, *node)) continue;
    auto& readers = by_input[node->input(0)];
    if (readers.empty()) order.push_back(node->input(0));
    readers.push_back(node.get());
  }
  bool changed = false;
  for (const ir::Value* x : order) {
    std::vector<ir::Node*> pending = by_input[x];
    while (pending.size() >= 2) {
      std::vector<ir::Node*> group = {pending.front()}, rest;
      for (size_t i = 1; i < pending.size(); ++i)
        (same_configuration(*pending.front(), *pending[i]) ? group : rest).push_back(pending[i]);
      pending = rest;
      if (group.size() < 2) continue;
      const std::string name = group.front()->name() + ".merged";
      std::vector<ir::Value*> inputs = {group.front()->input(0)};
      for (ir::Value* v : rule.merged_inputs(graph, group)) inputs.push_back(v);
      std::vector<int64_t> widths;
      std::vector<ir::Value*> outputs;
      for (ir::Node* n : group) {
        widths.push_back(rule.width(*n));
        outputs.push_back(n->output(0));
      }
      Attributes attrs = group.front()->attrs();
      ir::Value* merged = graph.add_value(name);
      for (ir::Node* n : group) graph.remove_node(n);
      graph.add_node(op, name, std::move(inputs), {merged}, std::move(attrs));
      Attributes split;
      split.set("axis", rule.split_axis);
      ir::Value* sizes = graph.add_constant(name + ".split",
                                            Tensor::from_vector<int64_t>(DType::kInt64, Shape{static_cast<int64_t>(widths.size())}, widths));
      graph.add_node(OpKind::Split, name + ".split", {merged, sizes}, std::move(outputs), std::move(split));
      changed = true;
    }
  }
  if (!changed) return false;
  KILN_RETURN_IF_ERROR(finish_rewrites(graph));
  return true;
}

}  // namespace kiln::passes
