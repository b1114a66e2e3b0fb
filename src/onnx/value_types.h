// Importer-internal: ONNX TypeProto (graph inputs, outputs, value_info) -> ir::ValueType.
#pragma once

#include <string>

#include "ir/graph.h"
#include "kiln/status.h"

namespace onnx {
class TypeProto;
}  // namespace onnx

namespace kiln::onnx_import {

// Tensor types only: dtype from elem_type (UNDEFINED stays unknown), shape from dim_value,
// dim_param (a symbolic dim) or neither (an unknown dim); no shape means unknown rank.
// Sequence, map, optional and sparse types are UNIMPLEMENTED naming `what`.
Result<ir::ValueType> value_type_from_proto(const onnx::TypeProto& type, const std::string& what);

}  // namespace kiln::onnx_import
