// Per-op schema: arity, shape and dtype inference, cost. Each family registers its schemas in
// src/ir/ops/<family>.cpp; the registry is complete when every op in ops.def has one (tested).
#pragma once

#include <string>
#include <vector>

#include "core/attributes.h"
#include "core/op_kind.h"
#include "ir/graph.h"
#include "kiln/status.h"

namespace kiln::ir {

// What shape inference sees of one node. Inputs that are absent (optional) report has_input()
// false. Constant inputs expose their data so that Reshape, Slice, ... can infer exact shapes.
class InferContext {
 public:
  explicit InferContext(const Node& node);

  const Node& node() const { return node_; }
  const Attributes& attrs() const { return node_.attrs(); }
  size_t num_inputs() const { return node_.inputs().size(); }
  size_t num_outputs() const { return outputs_.size(); }
  bool has_input(size_t i) const { return node_.input(i) != nullptr; }
  // Precondition: has_input(i).
  const ValueType& input_type(size_t i) const { return node_.input(i)->type(); }
  DType input_dtype(size_t i) const { return input_type(i).dtype; }
  // nullptr when the rank is unknown.
  const SymShape* input_shape(size_t i) const;
  // nullptr unless the input is a constant.
  const Tensor* input_constant(size_t i) const;

  void set_output(size_t i, DType dtype, std::optional<SymShape> shape);
  void set_output(size_t i, ValueType type);
  const std::vector<ValueType>& outputs() const { return outputs_; }

  // An INVALID_ARGUMENT status whose message names the node.
  Status error(const std::string& message) const;

 private:
  const Node& node_;
  std::vector<ValueType> outputs_;
};

// FLOPs of one node given concrete (possibly partly dynamic: -1) input and output shapes.
using FlopsFn = double (*)(const Node& node, const std::vector<Shape>& inputs,
                           const std::vector<Shape>& outputs);
using InferFn = Status (*)(InferContext& ctx);

inline constexpr int kVariadic = -1;

struct OpSchema {
  OpKind kind = OpKind::kCount;
  int min_inputs = 0;
  int max_inputs = 0;   // kVariadic: no limit
  int min_outputs = 1;
  int max_outputs = 1;
  InferFn infer = nullptr;
  FlopsFn flops = nullptr;  // nullptr: one FLOP per output element
};

class SchemaRegistry {
 public:
  void add(const OpSchema& schema);
  const OpSchema* find(OpKind kind) const;

 private:
  std::vector<OpSchema> schemas_ = std::vector<OpSchema>(kOpKindCount);
};

// Input/output counts and required inputs of `node` against `schema`. Schema inference
// functions may assume this holds, so callers check it first.
Status check_node_arity(const Node& node, const OpSchema& schema);

// The registry of all schemas, built once on first use.
const SchemaRegistry& schemas();
// nullptr when the op has no schema (a kiln bug; see the completeness test).
const OpSchema* find_schema(OpKind kind);

}  // namespace kiln::ir
