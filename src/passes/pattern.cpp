#include "passes/pattern.h"

#include <algorithm>
#include <cmath>

#include "core/dtype_dispatch.h"
#include "ir/shape_inference.h"
#include "passes/graph_rewrite.h"

namespace kiln::passes {

ir::Node* sole_reader(const ir::Graph& graph, const ir::Value* value) {
  if (!value || is_graph_output(graph, value)) return nullptr;
  const std::vector<ir::Node*> readers = graph.consumers(value);
  return readers.size() == 1 ? readers.front() : nullptr;
}

bool only_read_by(const ir::Graph& graph, const ir::Value* value, const ir::Node* reader) {
  if (!value || is_graph_output(graph, value)) return false;
  for (ir::Node* n : graph.consumers(value))
    if (n != reader) return false;
  return true;
}

ir::Node* producer_of(const ir::Value* value, OpKind op) {
  if (!value || !value->producer() || value->producer()->op() != op) return nullptr;
  return value->producer();
}

std::optional<std::vector<double>> constant_values(const ir::Graph& graph, const ir::Value* value) {
  if (!is_fixed_constant(graph, value)) return std::nullopt;
  const Tensor& t = *value->constant();
  std::vector<double> out(static_cast<size_t>(t.numel()));
  const bool numeric = t.dtype() != DType::kBool && visit_dtype(t.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* data = t.data<T>();
    for (size_t i = 0; i < out.size(); ++i) out[i] = convert_element<double>(data[i]);
  });
  if (!numeric) return std::nullopt;
  return out;
}

std::optional<double> scalar_constant(const ir::Graph& graph, const ir::Value* value) {
  auto values = constant_values(graph, value);
  if (!values || values->size() != 1) return std::nullopt;
  return values->front();
}

bool is_scalar_near(const ir::Graph& graph, const ir::Value* value, double expected, double tolerance) {
  auto v = scalar_constant(graph, value);
  return v && std::fabs(*v - expected) <= tolerance;
}

ir::Value* other_operand(const ir::Node& node, const ir::Value* one) {
  if (node.inputs().size() != 2) return nullptr;
  if (node.input(0) == one) return node.input(1);
  if (node.input(1) == one) return node.input(0);
  return nullptr;
}

std::optional<Shape> static_shape(const ir::Value* value) {
  if (!value || !value->type().shape) return std::nullopt;
  for (const ir::Dim& d : *value->type().shape)
    if (!d.is_known()) return std::nullopt;
  return ir::shape_of(*value->type().shape);
}

bool same_shape(const ir::Value* a, const ir::Value* b) {
  if (!a->type().shape || !b->type().shape || a->type().dtype != b->type().dtype) return false;
  const ir::SymShape& x = *a->type().shape;
  const ir::SymShape& y = *b->type().shape;
  if (x.size() != y.size()) return false;
  for (size_t d = 0; d < x.size(); ++d) {
    const bool equal = x[d].is_known() ? x[d] == y[d] : (!x[d].symbol.empty() && x[d].symbol == y[d].symbol);
    if (!equal) return false;
  }
  return true;
}

ir::Node* residual_add(const ir::Graph& graph, const ir::Value* result) {
  ir::Node* add = sole_reader(graph, result);
  if (!add || add->op() != OpKind::Add) return nullptr;
  const ir::Value* z = other_operand(*add, result);
  if (!z || z == result || !same_shape(z, result) || !same_shape(add->output(0), result)) return nullptr;
  return add;
}

Attributes perm_attrs(std::span<const int64_t> perm) {
  Attributes attrs;
  attrs.set("perm", std::vector<int64_t>(perm.begin(), perm.end()));
  return attrs;
}

Tensor tensor_from_doubles(DType dtype, const Shape& shape, const std::vector<double>& values) {
  Tensor t(dtype, shape);
  visit_dtype(dtype, [&](auto tag) {
    using T = decltype(tag);
    T* data = t.data<T>();
    for (size_t i = 0; i < values.size(); ++i) data[i] = convert_element<T>(values[i]);
  });
  return t;
}

ir::Node* replace_chain(ir::Graph& graph, const std::vector<ir::Node*>& chain, OpKind op, const std::string& name,
                        std::vector<ir::Value*> inputs, ir::Value* result, Attributes attrs) {
  const std::string kept_name = name;  // `name` may belong to a node of the chain
  for (ir::Node* n : chain) graph.remove_node(n);
  while (!inputs.empty() && !inputs.back()) inputs.pop_back();  // absent trailing optionals
  return graph.add_node(op, kept_name, std::move(inputs), {result}, std::move(attrs));
}

Status finish_rewrites(ir::Graph& graph) {
  KILN_RETURN_IF_ERROR(graph.sort_topologically());
  graph.remove_unused_values();
  // Values the rewrite created have no type yet; later passes and the engine builder read
  // types, and verify_each (which would infer them) is off in release builds.
  return ir::infer_shapes(graph);
}

}  // namespace kiln::passes
