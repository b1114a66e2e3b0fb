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

const SchemaRegistry& schemas() {
  static const SchemaRegistry registry = [] {
    SchemaRegistry r;
    register_elementwise_schemas(r);
    register_nn_schemas(r);
    register_linalg_schemas(r);
    register_reduce_schemas(r);
    register_tensor_schemas(r);
    register_quantize_schemas(r);
    return r;
  }();
  return registry;
}

const OpSchema* find_schema(OpKind kind) { return schemas().find(kind); }

}  // namespace kiln::ir
