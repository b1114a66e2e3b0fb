// Importer-internal: ONNX AttributeProto -> kiln::AttributeValue, and the value of a Constant
// node. Attributes kiln cannot represent (subgraphs, sparse tensors, type protos) make the node
// unsupported; unsupported_attribute() finds them before anything is converted.
#pragma once

#include <optional>
#include <string>

#include "core/attributes.h"
#include "kiln/status.h"
#include "kiln/tensor.h"

namespace onnx {
class NodeProto;
}  // namespace onnx

namespace kiln::onnx_import {

// The first attribute of `node` whose kind kiln cannot hold, described ("attribute 'body' of
// type GRAPH"), or nullopt when all are representable.
std::optional<std::string> unsupported_attribute(const onnx::NodeProto& node);

// All attributes of a node; TENSOR attributes may use external data (read from `base_dir`).
Result<Attributes> convert_attributes(const onnx::NodeProto& node, const std::string& base_dir);

// The tensor a Constant node produces (value, value_float(s), value_int(s), value_string(s)).
Result<Tensor> constant_node_value(const onnx::NodeProto& node, const std::string& base_dir);

}  // namespace kiln::onnx_import
