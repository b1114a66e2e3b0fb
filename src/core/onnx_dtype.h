// ONNX TensorProto.DataType numbers <-> kiln DType. The importer, the Cast schema and kernels
// (attribute `to`) and the conformance runner all speak ONNX type numbers; this is the one place
// that maps them.
#pragma once

#include <cstdint>
#include <optional>

#include "kiln/dtype.h"

namespace kiln {

// TensorProto.DataType values (onnx.proto) that kiln can represent, plus the ones it names in
// error messages. Numbers are fixed by the ONNX format.
enum class OnnxDataType : int32_t {
  kUndefined = 0,
  kFloat = 1,
  kUInt8 = 2,
  kInt8 = 3,
  kUInt16 = 4,
  kInt16 = 5,
  kInt32 = 6,
  kInt64 = 7,
  kString = 8,
  kBool = 9,
  kFloat16 = 10,
  kDouble = 11,
  kUInt32 = 12,
  kUInt64 = 13,
  kComplex64 = 14,
  kComplex128 = 15,
  kBFloat16 = 16,
  kFloat8E4M3FN = 17,
};

// The kiln dtype for an ONNX data type number; nullopt for types kiln cannot hold (complex,
// other float8 variants, 4-bit ints) and for unknown numbers.
std::optional<DType> dtype_from_onnx(int32_t onnx_type);
// The ONNX data type number of a kiln dtype; 0 (UNDEFINED) for kUndefined.
int32_t onnx_from_dtype(DType dtype);

}  // namespace kiln
