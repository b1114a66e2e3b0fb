#include "onnx/proto_attributes.h"

#include <onnx/onnx_pb.h>

#include "onnx/proto_tensor.h"

namespace kiln::onnx_import {
namespace {

using onnx::AttributeProto;

std::string node_label(const onnx::NodeProto& node) {
  return node.op_type() + (node.name().empty() ? std::string() : " '" + node.name() + "'");
}

// Very old models leave AttributeProto.type unset; the populated field tells the kind then.
AttributeProto::AttributeType effective_type(const AttributeProto& attr) {
  if (attr.type() != AttributeProto::UNDEFINED) return attr.type();
  if (attr.has_f()) return AttributeProto::FLOAT;
  if (attr.has_i()) return AttributeProto::INT;
  if (attr.has_s()) return AttributeProto::STRING;
  if (attr.has_t()) return AttributeProto::TENSOR;
  if (attr.has_g()) return AttributeProto::GRAPH;
  if (attr.has_sparse_tensor()) return AttributeProto::SPARSE_TENSOR;
  if (attr.has_tp()) return AttributeProto::TYPE_PROTO;
  if (attr.floats_size() > 0) return AttributeProto::FLOATS;
  if (attr.ints_size() > 0) return AttributeProto::INTS;
  if (attr.strings_size() > 0) return AttributeProto::STRINGS;
  if (attr.tensors_size() > 0) return AttributeProto::TENSORS;
  if (attr.graphs_size() > 0) return AttributeProto::GRAPHS;
  if (attr.sparse_tensors_size() > 0) return AttributeProto::SPARSE_TENSORS;
  if (attr.type_protos_size() > 0) return AttributeProto::TYPE_PROTOS;
  return AttributeProto::UNDEFINED;
}

std::string type_name(AttributeProto::AttributeType type) {
  if (AttributeProto::AttributeType_IsValid(type)) return AttributeProto::AttributeType_Name(type);
  return "<unknown attribute type " + std::to_string(static_cast<int>(type)) + ">";
}

bool is_representable(AttributeProto::AttributeType type) {
  switch (type) {
    case AttributeProto::FLOAT:
    case AttributeProto::INT:
    case AttributeProto::STRING:
    case AttributeProto::TENSOR:
    case AttributeProto::FLOATS:
    case AttributeProto::INTS:
    case AttributeProto::STRINGS:
      return true;
    default:
      return false;
  }
}

Result<AttributeValue> convert_one(const onnx::NodeProto& node, const AttributeProto& attr, const std::string& base_dir) {
  switch (effective_type(attr)) {
    case AttributeProto::FLOAT: return AttributeValue(attr.f());
    case AttributeProto::INT: return AttributeValue(static_cast<int64_t>(attr.i()));
    case AttributeProto::STRING: return AttributeValue(attr.s());
    case AttributeProto::FLOATS: return AttributeValue(std::vector<float>(attr.floats().begin(), attr.floats().end()));
    case AttributeProto::INTS: return AttributeValue(std::vector<int64_t>(attr.ints().begin(), attr.ints().end()));
    case AttributeProto::STRINGS:
      return AttributeValue(std::vector<std::string>(attr.strings().begin(), attr.strings().end()));
    case AttributeProto::TENSOR: {
      auto tensor = tensor_from_proto(attr.t(), base_dir);
      if (!tensor.ok())
        return tensor.status().with_context("attribute '" + attr.name() + "' of node " + node_label(node));
      return AttributeValue(std::move(tensor).value());
    }
    default: break;
  }
  return unimplemented("attribute '" + attr.name() + "' of node " + node_label(node) + " has type " +
                       type_name(effective_type(attr)) + ", which kiln does not support");
}

Result<Tensor> vector_constant(DType dtype, std::vector<int64_t> ints) {
  return Tensor::from_vector(dtype, Shape{static_cast<int64_t>(ints.size())}, ints);
}

}  // namespace

std::optional<std::string> unsupported_attribute(const onnx::NodeProto& node) {
  for (const AttributeProto& attr : node.attribute()) {
    const auto type = effective_type(attr);
    if (!is_representable(type)) return "attribute '" + attr.name() + "' of type " + type_name(type);
  }
  return std::nullopt;
}

Result<Attributes> convert_attributes(const onnx::NodeProto& node, const std::string& base_dir) {
  Attributes attrs;
  for (const AttributeProto& attr : node.attribute()) {
    if (attr.name().empty()) return invalid_argument("node " + node_label(node) + " has an attribute without a name");
    if (attrs.has(attr.name()))
      return invalid_argument("node " + node_label(node) + " has attribute '" + attr.name() + "' twice");
    KILN_ASSIGN_OR_RETURN(AttributeValue value, convert_one(node, attr, base_dir));
    attrs.set(attr.name(), std::move(value));
  }
  return attrs;
}

Result<Tensor> constant_node_value(const onnx::NodeProto& node, const std::string& base_dir) {
  if (node.attribute_size() != 1)
    return invalid_argument("Constant node " + node_label(node) + " must have exactly one attribute (found " +
                            std::to_string(node.attribute_size()) + ")");
  const AttributeProto& attr = node.attribute(0);
  KILN_ASSIGN_OR_RETURN(AttributeValue value, convert_one(node, attr, base_dir));
  const std::string& key = attr.name();
  if (key == "value") {
    if (const auto* t = std::get_if<Tensor>(&value)) return *t;
  } else if (key == "value_float") {
    if (const auto* f = std::get_if<float>(&value)) return Tensor::from_vector(DType::kFloat32, Shape{}, std::vector<float>{*f});
  } else if (key == "value_floats") {
    if (const auto* fs = std::get_if<std::vector<float>>(&value))
      return Tensor::from_vector(DType::kFloat32, Shape{static_cast<int64_t>(fs->size())}, *fs);
  } else if (key == "value_int") {
    if (const auto* i = std::get_if<int64_t>(&value)) return Tensor::from_vector(DType::kInt64, Shape{}, std::vector<int64_t>{*i});
  } else if (key == "value_ints") {
    if (const auto* is = std::get_if<std::vector<int64_t>>(&value)) return vector_constant(DType::kInt64, *is);
  } else if (key == "value_string") {
    if (const auto* s = std::get_if<std::string>(&value)) return Tensor::from_strings(Shape{}, {*s});
  } else if (key == "value_strings") {
    if (const auto* ss = std::get_if<std::vector<std::string>>(&value))
      return Tensor::from_strings(Shape{static_cast<int64_t>(ss->size())}, *ss);
  } else {
    return invalid_argument("Constant node " + node_label(node) + " has unknown attribute '" + key + "'");
  }
  return invalid_argument("Constant node " + node_label(node) + " has attribute '" + key + "' of the wrong type " +
                          type_name(effective_type(attr)));
}

}  // namespace kiln::onnx_import
