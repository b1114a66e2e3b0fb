#include "ir/graph.h"

#include <algorithm>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace kiln::ir {

std::string Dim::to_string() const {
  if (is_known()) return std::to_string(value);
  return symbol.empty() ? "?" : symbol;
}

SymShape sym_shape_from(const Shape& shape) {
  SymShape out;
  out.reserve(shape.rank());
  for (int64_t d : shape.dims()) out.push_back(d >= 0 ? Dim::known(d) : Dim{});
  return out;
}

Shape shape_of(const SymShape& shape) {
  std::vector<int64_t> dims;
  dims.reserve(shape.size());
  for (const Dim& d : shape) dims.push_back(d.value);
  return Shape(std::move(dims));
}

std::string sym_shape_to_string(const SymShape& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? "," : "") + shape[i].to_string();
  return out + "]";
}

std::string ValueType::to_string() const {
  std::string out(dtype_name(dtype));
  return out + (shape ? sym_shape_to_string(*shape) : std::string("[?rank]"));
}

void Value::set_constant(Tensor t) {
  type_.dtype = t.dtype();
  type_.shape = sym_shape_from(t.shape());
  constant_ = std::move(t);
}

void Node::set_input(size_t i, Value* v) {
  if (i >= inputs_.size()) inputs_.resize(i + 1, nullptr);
  inputs_[i] = v;
}

std::string Node::describe() const {
  std::string out(op_kind_name(op_));
  if (!name_.empty()) out += " '" + name_ + "'";
  return out;
}

Value* Graph::add_value(const std::string& name) {
  std::string unique = name;
  for (int suffix = 1; by_name_.count(unique) != 0; ++suffix) unique = name + "_" + std::to_string(suffix);
  values_.push_back(std::make_unique<Value>(unique));
  Value* v = values_.back().get();
  by_name_[unique] = v;
  return v;
}

Value* Graph::add_constant(const std::string& name, Tensor data) {
  Value* v = add_value(name);
  v->set_constant(std::move(data));
  return v;
}

Value* Graph::find_value(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

Node* Graph::add_node(OpKind op, const std::string& name, std::vector<Value*> inputs,
                      std::vector<Value*> outputs, Attributes attrs) {
  nodes_.push_back(std::make_unique<Node>(op, name));
  Node* n = nodes_.back().get();
  n->inputs_ = std::move(inputs);
  n->outputs_ = std::move(outputs);
  n->attrs_ = std::move(attrs);
  for (size_t i = 0; i < n->outputs_.size(); ++i) {
    if (Value* out = n->outputs_[i]) {
      out->producer_ = n;
      out->producer_output_ = static_cast<int>(i);
    }
  }
  return n;
}

void Graph::remove_node(Node* node) {
  for (Value* out : node->outputs_)
    if (out && out->producer_ == node) {
      out->producer_ = nullptr;
      out->producer_output_ = -1;
    }
  auto it = std::find_if(nodes_.begin(), nodes_.end(), [node](const auto& p) { return p.get() == node; });
  if (it != nodes_.end()) nodes_.erase(it);
}

void Graph::remove_unused_values() {
  std::unordered_set<const Value*> used(inputs_.begin(), inputs_.end());
  used.insert(outputs_.begin(), outputs_.end());
  for (const auto& n : nodes_) {
    used.insert(n->inputs_.begin(), n->inputs_.end());
    used.insert(n->outputs_.begin(), n->outputs_.end());
  }
  std::erase_if(values_, [&](const std::unique_ptr<Value>& v) {
    if (used.count(v.get())) return false;
    by_name_.erase(v->name());
    return true;
  });
}

Status Graph::sort_topologically() {
  std::unordered_map<const Node*, size_t> pending;
  std::unordered_map<const Value*, std::vector<Node*>> readers;
  for (const auto& n : nodes_) {
    std::set<const Value*> waits;
    for (Value* in : n->inputs_)
      if (in && in->producer_) waits.insert(in);
    pending[n.get()] = waits.size();
    for (const Value* in : waits) readers[in].push_back(n.get());
  }
  std::vector<Node*> ready;
  for (const auto& n : nodes_)
    if (pending[n.get()] == 0) ready.push_back(n.get());
  std::vector<Node*> order;
  // Process in original order where possible so a sorted graph stays unchanged.
  std::unordered_map<const Node*, size_t> position;
  for (size_t i = 0; i < nodes_.size(); ++i) position[nodes_[i].get()] = i;
  auto by_position = [&](Node* a, Node* b) { return position[a] > position[b]; };
  std::make_heap(ready.begin(), ready.end(), by_position);
  while (!ready.empty()) {
    std::pop_heap(ready.begin(), ready.end(), by_position);
    Node* n = ready.back();
    ready.pop_back();
    order.push_back(n);
    for (Value* out : n->outputs_) {
      if (!out) continue;
      for (Node* r : readers[out])
        if (--pending[r] == 0) {
          ready.push_back(r);
          std::push_heap(ready.begin(), ready.end(), by_position);
        }
    }
  }
  if (order.size() != nodes_.size()) {
    for (const auto& n : nodes_)
      if (pending[n.get()] != 0) return invalid_argument("the graph has a cycle through node " + n->describe());
  }
  std::vector<std::unique_ptr<Node>> sorted;
  sorted.reserve(nodes_.size());
  for (Node* n : order) {
    auto it = std::find_if(nodes_.begin(), nodes_.end(), [n](const auto& p) { return p.get() == n; });
    sorted.push_back(std::move(*it));
  }
  nodes_ = std::move(sorted);
  return {};
}

std::vector<Node*> Graph::consumers(const Value* v) const {
  std::vector<Node*> out;
  for (const auto& n : nodes_)
    if (std::find(n->inputs_.begin(), n->inputs_.end(), v) != n->inputs_.end()) out.push_back(n.get());
  return out;
}

}  // namespace kiln::ir
