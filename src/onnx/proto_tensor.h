// Importer-internal: ONNX TensorProto -> kiln::Tensor, including external data. The onnx
// message types are only forward-declared here so that no header pulls in the generated code.
#pragma once

#include <cstdint>
#include <string>

#include "kiln/dtype.h"
#include "kiln/status.h"
#include "kiln/tensor.h"

namespace onnx {
class TensorProto;
}  // namespace onnx

namespace kiln::onnx_import {

// TensorProto.DataType value -> kiln dtype; UNIMPLEMENTED naming the ONNX type (and `what`,
// e.g. "tensor 'w'") for types kiln cannot hold (complex, unknown values).
Result<DType> dtype_from_onnx(int32_t onnx_type, const std::string& what);
// "FLOAT", "COMPLEX64", or "<unknown type 99>".
std::string onnx_dtype_name(int32_t onnx_type);

// Converts a TensorProto. External data is read relative to `base_dir`; an empty `base_dir`
// means external data is not allowed (an INVALID_ARGUMENT error naming the tensor).
Result<Tensor> tensor_from_proto(const onnx::TensorProto& proto, const std::string& base_dir);

}  // namespace kiln::onnx_import
