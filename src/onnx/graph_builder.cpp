// Builds the graph in passes so that a node may read a value defined by a later node (some
// exporters do not sort) and so that every ONNX name is taken before helper values are named:
// constants and inputs, then every node output, then declared types, then the nodes themselves.
#include "onnx/graph_builder.h"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <unordered_map>

#include "onnx/legacy_opsets.h"
#include "onnx/opset_upgrade.h"
#include "onnx/proto_attributes.h"
#include "onnx/proto_tensor.h"
#include "onnx/unsupported_ops.h"
#include "onnx/value_types.h"

namespace kiln::onnx_import {
namespace {

constexpr const char* kConstantOp = "Constant";

std::string node_name_or_index(const onnx::NodeProto& node, int index) {
  return node.name().empty() ? node.op_type() + "_" + std::to_string(index) : node.name();
}

class GraphBuilder {
 public:
  GraphBuilder(const onnx::ModelProto& model, const Opsets& opsets, const std::string& base_dir)
      : model_(model), proto_(model.graph()), opsets_(opsets), base_dir_(base_dir) {}

  Result<ir::Graph> build() {
    KILN_RETURN_IF_ERROR(check_supported());
    KILN_RETURN_IF_ERROR(add_initializers());
    KILN_RETURN_IF_ERROR(add_inputs());
    KILN_RETURN_IF_ERROR(register_node_outputs());
    KILN_RETURN_IF_ERROR(apply_value_info());
    KILN_RETURN_IF_ERROR(add_outputs());
    KILN_RETURN_IF_ERROR(emit_nodes());
    KILN_RETURN_IF_ERROR(graph_.sort_topologically());
    add_metadata();
    return std::move(graph_);
  }

 private:
  // Every op kiln cannot import, gathered into one error before any work is done.
  Status check_supported() const {
    UnsupportedOps unsupported;
    bool uses_default_domain = false;
    for (int i = 0; i < proto_.node_size(); ++i) {
      const onnx::NodeProto& node = proto_.node(i);
      const std::string domain = canonical_domain(node.domain());
      const std::string name = node_name_or_index(node, i);
      if (!domain.empty()) {
        unsupported.add(node.op_type(), domain, opsets_.opset_of(domain), name);
        continue;
      }
      uses_default_domain = true;
      if (node.op_type() != kConstantOp && !ir_op_for(node.op_type())) {
        unsupported.add(node.op_type(), domain, opsets_.default_opset, name);
      } else if (auto attr = unsupported_attribute(node)) {
        unsupported.add(node.op_type(), domain, opsets_.default_opset, name, "uses " + *attr);
      } else if (auto legacy = legacy_node_refusal(node, opsets_.default_opset)) {
        unsupported.add(node.op_type(), domain, opsets_.default_opset, name, *legacy);
      }
    }
    if (uses_default_domain && opsets_.default_opset == 0)
      return invalid_argument("the model has ONNX ops but its opset_import lists no default-domain opset");
    if (proto_.sparse_initializer_size() > 0)
      return unimplemented("sparse initializer '" + proto_.sparse_initializer(0).values().name() +
                           "' is not supported");
    return unsupported.to_status();
  }

  Status define(const std::string& name, ir::Value* value) {
    if (!values_.emplace(name, value).second)
      return invalid_argument("value '" + name + "' is defined more than once (initializer, graph input or node output)");
    return {};
  }

  Status add_initializers() {
    for (const onnx::TensorProto& init : proto_.initializer()) {
      if (init.name().empty()) return invalid_argument("an initializer has no name");
      if (values_.count(init.name())) return invalid_argument("initializer '" + init.name() + "' is defined twice");
      KILN_ASSIGN_OR_RETURN(Tensor data, tensor_from_proto(init, base_dir_));
      KILN_RETURN_IF_ERROR(define(init.name(), graph_.add_constant(init.name(), std::move(data))));
    }
    return {};
  }

  Status add_inputs() {
    for (const onnx::ValueInfoProto& input : proto_.input()) {
      if (input.name().empty()) return invalid_argument("a graph input has no name");
      auto existing = values_.find(input.name());
      if (existing != values_.end()) {
        if (existing->second->is_constant()) continue;  // old IR: initializers are listed as inputs too
        return invalid_argument("graph input '" + input.name() + "' is listed twice");
      }
      ir::Value* value = graph_.add_value(input.name());
      KILN_ASSIGN_OR_RETURN(ir::ValueType type, value_type_from_proto(input.type(), "graph input '" + input.name() + "'"));
      value->set_type(std::move(type));
      KILN_RETURN_IF_ERROR(define(input.name(), value));
      graph_.add_input(value);
    }
    return {};
  }

  Status register_node_outputs() {
    for (int i = 0; i < proto_.node_size(); ++i) {
      const onnx::NodeProto& node = proto_.node(i);
      const std::string label = node.op_type() + " '" + node_name_or_index(node, i) + "'";
      if (node.op_type() == kConstantOp) {
        if (node.output_size() != 1 || node.output(0).empty())
          return invalid_argument("Constant node " + label + " must have exactly one named output");
        KILN_ASSIGN_OR_RETURN(Tensor data, constant_node_value(node, base_dir_));
        KILN_RETURN_IF_ERROR(define(node.output(0), graph_.add_constant(node.output(0), std::move(data))));
        continue;
      }
      for (const std::string& output : node.output()) {
        if (output.empty()) continue;
        Status defined = define(output, graph_.add_value(output));
        if (!defined.ok()) return defined.with_context("node " + label);
      }
    }
    return {};
  }

  ir::Value* find(const std::string& name) const {
    auto it = values_.find(name);
    return it == values_.end() ? nullptr : it->second;
  }

  // Declared types of intermediate values; shape inference merges its results with them.
  Status apply_value_info() {
    for (const onnx::ValueInfoProto& info : proto_.value_info()) {
      ir::Value* value = find(info.name());
      if (value == nullptr || value->is_constant()) continue;
      auto type = value_type_from_proto(info.type(), "value '" + info.name() + "'");
      if (type.ok()) value->set_type(std::move(type).value());  // non-tensor annotations carry nothing for us
    }
    return {};
  }

  Status add_outputs() {
    for (const onnx::ValueInfoProto& output : proto_.output()) {
      ir::Value* value = find(output.name());
      if (value == nullptr)
        return invalid_argument("graph output '" + output.name() +
                                "' is not a graph input, an initializer or the output of a node");
      const bool declared_elsewhere = value->is_constant() || value->producer() != nullptr ||
                                      std::find(graph_.inputs().begin(), graph_.inputs().end(), value) != graph_.inputs().end();
      KILN_ASSIGN_OR_RETURN(ir::ValueType type, value_type_from_proto(output.type(), "graph output '" + output.name() + "'"));
      if (!declared_elsewhere && (type.dtype != DType::kUndefined || type.shape)) value->set_type(std::move(type));
      graph_.add_output(value);
    }
    return {};
  }

  Result<NodeDraft> draft_of(const onnx::NodeProto& node, int index) const {
    NodeDraft draft;
    draft.op_type = node.op_type();
    draft.op = *ir_op_for(node.op_type());  // check_supported() rejected the others
    draft.name = node_name_or_index(node, index);
    for (const std::string& input : node.input()) {
      if (input.empty()) {
        draft.inputs.push_back(nullptr);
        continue;
      }
      ir::Value* value = find(input);
      if (value == nullptr)
        return invalid_argument("node " + draft.op_type + " '" + draft.name + "' reads '" + input +
                                "', which is not a graph input, an initializer or the output of a node");
      draft.inputs.push_back(value);
    }
    int last_named = node.output_size() - 1;
    while (last_named >= 0 && node.output(last_named).empty()) --last_named;  // trailing unused outputs
    for (int o = 0; o <= last_named; ++o)
      draft.outputs.push_back(node.output(o).empty() ? nullptr : find(node.output(o)));
    KILN_ASSIGN_OR_RETURN(draft.attrs, convert_attributes(node, base_dir_));
    return draft;
  }

  Status emit_nodes() {
    for (int i = 0; i < proto_.node_size(); ++i) {
      const onnx::NodeProto& node = proto_.node(i);
      if (node.op_type() == kConstantOp) continue;  // already a constant value
      KILN_ASSIGN_OR_RETURN(NodeDraft draft, draft_of(node, i));
      if (opsets_.default_opset < kFirstModernOpset) drop_legacy_attributes(draft);
      KILN_RETURN_IF_ERROR(emit_in_ir_form(graph_, std::move(draft), opsets_.default_opset));
    }
    return {};
  }

  void add_metadata() {
    graph_.name = proto_.name();
    graph_.opset = opsets_.default_opset;
    auto put = [&](const std::string& key, const std::string& value) {
      if (!value.empty()) graph_.metadata.emplace(key, value);
    };
    put("producer_name", model_.producer_name());
    put("producer_version", model_.producer_version());
    put("domain", model_.domain());
    put("doc_string", model_.doc_string());
    if (model_.has_model_version()) put("model_version", std::to_string(model_.model_version()));
    for (const auto& prop : model_.metadata_props()) put(prop.key(), prop.value());
  }

  const onnx::ModelProto& model_;
  const onnx::GraphProto& proto_;
  const Opsets& opsets_;
  const std::string& base_dir_;
  ir::Graph graph_;
  std::unordered_map<std::string, ir::Value*> values_;  // ONNX name -> value
};

}  // namespace

Result<ir::Graph> build_graph(const onnx::ModelProto& model, const Opsets& opsets, const std::string& base_dir) {
  return GraphBuilder(model, opsets, base_dir).build();
}

}  // namespace kiln::onnx_import
