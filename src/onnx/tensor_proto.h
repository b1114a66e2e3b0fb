// ONNX TensorProto <-> kiln Tensor, used by the importer for initializers and by the
// conformance runner for the recorded inputs/outputs of the official node tests (*.pb files).
#pragma once

#include <string>
#include <string_view>

#include "kiln/status.h"
#include "kiln/tensor.h"

namespace kiln::onnx_import {

// Parses one serialized TensorProto (external data is not allowed here). Errors name the
// problem (truncated, unsupported data type, element count mismatch).
Result<Tensor> tensor_from_proto_bytes(std::string_view bytes);
// Reads a serialized TensorProto file such as test_data_set_0/input_0.pb; the tensor's name is
// returned through `name` when not null.
Result<Tensor> read_tensor_file(const std::string& path, std::string* name = nullptr);

}  // namespace kiln::onnx_import
