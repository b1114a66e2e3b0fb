// The graph IR: Values (typed edges, optionally constant), Nodes (an op with attributes) and a
// Graph that owns both and keeps nodes in topological order.
//
// Ownership: the Graph owns every Value and Node (unique_ptr); everything else holds raw
// pointers that stay valid until the Graph removes the object.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/attributes.h"
#include "core/op_kind.h"
#include "kiln/dtype.h"
#include "kiln/shape.h"
#include "kiln/tensor.h"

namespace kiln::ir {

// One dimension of a value's shape: a known size, or unknown with an optional symbolic name
// ("batch", "seq") that ties equal unknown dims together.
struct Dim {
  int64_t value = kDynamicDim;
  std::string symbol;

  static Dim known(int64_t v) { return Dim{v, {}}; }
  static Dim symbolic(std::string s) { return Dim{kDynamicDim, std::move(s)}; }
  bool is_known() const { return value >= 0; }
  std::string to_string() const;
  friend bool operator==(const Dim&, const Dim&) = default;
};

using SymShape = std::vector<Dim>;

SymShape sym_shape_from(const Shape& shape);
// Concrete view: unknown dims become kDynamicDim.
Shape shape_of(const SymShape& shape);
std::string sym_shape_to_string(const SymShape& shape);  // "[N,3,224,224]"

// What is known about a value statically. An absent shape means even the rank is unknown.
struct ValueType {
  DType dtype = DType::kUndefined;
  std::optional<SymShape> shape;

  std::string to_string() const;  // "float32[N,3,224,224]", "float32[?rank]"
};

class Node;

class Value {
 public:
  explicit Value(std::string name) : name_(std::move(name)) {}

  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }
  const ValueType& type() const { return type_; }
  ValueType& mutable_type() { return type_; }
  void set_type(ValueType type) { type_ = std::move(type); }

  // Initializers and folded constants carry their data.
  bool is_constant() const { return constant_.has_value(); }
  const Tensor* constant() const { return constant_ ? &*constant_ : nullptr; }
  void set_constant(Tensor t);

  Node* producer() const { return producer_; }
  int producer_output() const { return producer_output_; }

 private:
  friend class Graph;
  std::string name_;
  ValueType type_;
  std::optional<Tensor> constant_;
  Node* producer_ = nullptr;
  int producer_output_ = -1;
};

class Node {
 public:
  Node(OpKind op, std::string name) : op_(op), name_(std::move(name)) {}

  OpKind op() const { return op_; }
  const std::string& name() const { return name_; }
  // Absent optional inputs are nullptr.
  const std::vector<Value*>& inputs() const { return inputs_; }
  const std::vector<Value*>& outputs() const { return outputs_; }
  Value* input(size_t i) const { return i < inputs_.size() ? inputs_[i] : nullptr; }
  Value* output(size_t i) const { return i < outputs_.size() ? outputs_[i] : nullptr; }
  const Attributes& attrs() const { return attrs_; }
  Attributes& mutable_attrs() { return attrs_; }
  void set_input(size_t i, Value* v);

  // "Conv 'conv1'" for messages.
  std::string describe() const;

 private:
  friend class Graph;
  OpKind op_;
  std::string name_;
  std::vector<Value*> inputs_;
  std::vector<Value*> outputs_;
  Attributes attrs_;
};

class Graph {
 public:
  Graph() = default;
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;
  Graph(Graph&&) = default;
  Graph& operator=(Graph&&) = default;

  std::string name;
  int64_t opset = 0;                              // default-domain opset of the source model
  std::map<std::string, std::string> metadata;    // producer name, doc string, ...

  // Creates a value; names are unique, so an existing name gets a numeric suffix.
  Value* add_value(const std::string& name);
  Value* add_constant(const std::string& name, Tensor data);
  Value* find_value(const std::string& name) const;
  // Appends a node that produces `outputs` (fresh values, not produced by any other node).
  Node* add_node(OpKind op, const std::string& name, std::vector<Value*> inputs,
                 std::vector<Value*> outputs, Attributes attrs = {});
  // Removes a node; its outputs stay in the graph (without producer) until remove_unused_values.
  void remove_node(Node* node);
  void remove_unused_values();
  // Reorders nodes topologically; an error if there is a cycle or a use before definition.
  Status sort_topologically();

  const std::vector<std::unique_ptr<Node>>& nodes() const { return nodes_; }
  const std::vector<std::unique_ptr<Value>>& values() const { return values_; }
  const std::vector<Value*>& inputs() const { return inputs_; }
  const std::vector<Value*>& outputs() const { return outputs_; }
  void add_input(Value* v) { inputs_.push_back(v); }
  void add_output(Value* v) { outputs_.push_back(v); }
  std::vector<Value*>& mutable_outputs() { return outputs_; }
  std::vector<Value*>& mutable_inputs() { return inputs_; }

  // Nodes that read `v` (computed on demand; passes that need it often build their own map).
  std::vector<Node*> consumers(const Value* v) const;

 private:
  std::vector<std::unique_ptr<Value>> values_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<Value*> inputs_;
  std::vector<Value*> outputs_;
  std::map<std::string, Value*> by_name_;
};

}  // namespace kiln::ir
