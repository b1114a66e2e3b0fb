#include "model_builder.h"

#include <cctype>
#include <cstring>

namespace kiln::onnx_test {

ModelBuilder::ModelBuilder(int64_t opset) {
  model_.set_ir_version(kCurrentIrVersion);
  model_.set_producer_name("kiln-tests");
  auto* import = model_.add_opset_import();
  import->set_domain("");
  import->set_version(opset);
  model_.mutable_graph()->set_name("test_graph");
}

onnx::ValueInfoProto* ModelBuilder::input(const std::string& name, int32_t elem_type, const std::vector<std::string>& dims) {
  auto* info = graph().add_input();
  info->set_name(name);
  auto* tensor = info->mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(elem_type);
  auto* shape = tensor->mutable_shape();
  for (const std::string& d : dims) {
    auto* dim = shape->add_dim();
    if (d.empty()) continue;
    if (std::isdigit(static_cast<unsigned char>(d[0])))
      dim->set_dim_value(std::stoll(d));
    else
      dim->set_dim_param(d);
  }
  return info;
}

onnx::ValueInfoProto* ModelBuilder::input(const std::string& name, int32_t elem_type, const std::vector<int64_t>& dims) {
  std::vector<std::string> text;
  for (int64_t d : dims) text.push_back(std::to_string(d));
  return input(name, elem_type, text);
}

onnx::ValueInfoProto* ModelBuilder::output(const std::string& name, int32_t elem_type) {
  auto* info = graph().add_output();
  info->set_name(name);
  if (elem_type != 0) info->mutable_type()->mutable_tensor_type()->set_elem_type(elem_type);
  return info;
}

onnx::NodeProto* ModelBuilder::node(const std::string& op_type, const std::vector<std::string>& inputs,
                                    const std::vector<std::string>& outputs, const std::string& name) {
  auto* n = graph().add_node();
  n->set_op_type(op_type);
  n->set_name(name);
  for (const auto& i : inputs) n->add_input(i);
  for (const auto& o : outputs) n->add_output(o);
  return n;
}

onnx::TensorProto* ModelBuilder::initializer(const std::string& name, const std::vector<int64_t>& dims,
                                             const std::vector<float>& values) {
  auto* t = graph().add_initializer();
  *t = float_tensor(name, dims, values, /*raw=*/true);
  return t;
}

onnx::TensorProto* ModelBuilder::int64_initializer(const std::string& name, const std::vector<int64_t>& dims,
                                                   const std::vector<int64_t>& values) {
  auto* t = graph().add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::INT64);
  for (int64_t d : dims) t->add_dims(d);
  for (int64_t v : values) t->add_int64_data(v);
  return t;
}

std::string ModelBuilder::bytes() const { return model_.SerializeAsString(); }

Result<ir::Graph> ModelBuilder::import(bool infer_and_verify, const std::string& base_dir) const {
  return onnx_import::import_bytes(bytes(), base_dir, {.infer_and_verify = infer_and_verify});
}

namespace {
onnx::AttributeProto* add_attr(onnx::NodeProto* node, const std::string& name, onnx::AttributeProto::AttributeType type) {
  auto* a = node->add_attribute();
  a->set_name(name);
  a->set_type(type);
  return a;
}
}  // namespace

void set_int(onnx::NodeProto* node, const std::string& name, int64_t value) {
  add_attr(node, name, onnx::AttributeProto::INT)->set_i(value);
}
void set_ints(onnx::NodeProto* node, const std::string& name, const std::vector<int64_t>& values) {
  auto* a = add_attr(node, name, onnx::AttributeProto::INTS);
  for (int64_t v : values) a->add_ints(v);
}
void set_float(onnx::NodeProto* node, const std::string& name, float value) {
  add_attr(node, name, onnx::AttributeProto::FLOAT)->set_f(value);
}
void set_floats(onnx::NodeProto* node, const std::string& name, const std::vector<float>& values) {
  auto* a = add_attr(node, name, onnx::AttributeProto::FLOATS);
  for (float v : values) a->add_floats(v);
}
void set_string(onnx::NodeProto* node, const std::string& name, const std::string& value) {
  add_attr(node, name, onnx::AttributeProto::STRING)->set_s(value);
}
void set_tensor(onnx::NodeProto* node, const std::string& name, const onnx::TensorProto& value) {
  *add_attr(node, name, onnx::AttributeProto::TENSOR)->mutable_t() = value;
}

onnx::TensorProto float_tensor(const std::string& name, const std::vector<int64_t>& dims,
                               const std::vector<float>& values, bool raw) {
  onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims) t.add_dims(d);
  if (raw) {
    std::string bytes(values.size() * sizeof(float), '\0');
    if (!values.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
    t.set_raw_data(bytes);
  } else {
    for (float v : values) t.add_float_data(v);
  }
  return t;
}

const ir::Node* producer_of(const ir::Graph& graph, const std::string& value_name) {
  const ir::Value* v = graph.find_value(value_name);
  return v ? v->producer() : nullptr;
}

size_t count_nodes(const ir::Graph& graph, OpKind op) {
  size_t n = 0;
  for (const auto& node : graph.nodes()) n += node->op() == op ? 1 : 0;
  return n;
}

}  // namespace kiln::onnx_test
