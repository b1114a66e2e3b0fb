#include "ir/op_schema.h"

#include "ir/ops/families.h"

namespace kiln::ir {

InferContext::InferContext(const Node& node) : node_(node), outputs_(node.outputs().size()) {}

const SymShape* InferContext::input_shape(size_t i) const {
  const Value* v = node_.input(i);
  return v && v->type().shape ? &*v->type().shape : nullptr;
}

const Tensor* InferContext::input_constant(size_t i) const {
  const Value* v = node_.input(i);
  return v ? v->constant() : nullptr;
}

void InferContext::set_output(size_t i, DType dtype, std::optional<SymShape> shape) {
  if (i < outputs_.size()) outputs_[i] = ValueType{dtype, std::move(shape)};
}

void InferContext::set_output(size_t i, ValueType type) {
  if (i < outputs_.size()) outputs_[i] = std::move(type);
}

Status InferContext::error(const std::string& message) const {
  return invalid_argument(node_.describe() + ": " + message);
}

void SchemaRegistry::add(const OpSchema& schema) {
  schemas_[static_cast<size_t>(schema.kind)] = schema;
}

const OpSchema* SchemaRegistry::find(OpKind kind) const {
  auto i = static_cast<size_t>(kind);
  if (i >= schemas_.size() || schemas_[i].kind != kind) return nullptr;
  return &schemas_[i];
}

namespace {

std::string count_range(int min, int max) {
  return std::to_string(min) + " to " + (max == kVariadic ? std::string("any number") : std::to_string(max));
}

}  // namespace

Status check_node_arity(const Node& node, const OpSchema& schema) {
  const auto inputs = static_cast<int>(node.inputs().size());
  const auto outputs = static_cast<int>(node.outputs().size());
  if (inputs < schema.min_inputs || (schema.max_inputs != kVariadic && inputs > schema.max_inputs))
    return invalid_argument(node.describe() + " has " + std::to_string(inputs) + " inputs; expected " +
                            count_range(schema.min_inputs, schema.max_inputs));
  for (int i = 0; i < schema.min_inputs; ++i)
    if (node.input(static_cast<size_t>(i)) == nullptr)
      return invalid_argument(node.describe() + ": required input " + std::to_string(i) + " is missing");
  if (outputs < schema.min_outputs || (schema.max_outputs != kVariadic && outputs > schema.max_outputs))
    return invalid_argument(node.describe() + " has " + std::to_string(outputs) + " outputs; expected " +
                            count_range(schema.min_outputs, schema.max_outputs));
  return {};
}

const SchemaRegistry& schemas() {
  static const SchemaRegistry registry = [] {
    SchemaRegistry r;
    register_elementwise_schemas(r);
    register_nn_schemas(r);
    register_linalg_schemas(r);
    register_reduce_schemas(r);
    register_tensor_schemas(r);
    register_quantize_schemas(r);
    register_fused_schemas(r);
    return r;
  }();
  return registry;
}

const OpSchema* find_schema(OpKind kind) { return schemas().find(kind); }

}  // namespace kiln::ir
