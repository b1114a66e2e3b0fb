// Element types. The list is the union of what models carry (ONNX TensorProto types kiln can
// hold) and what engines compute in; BYTES holds strings.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace kiln {

enum class DType : uint8_t {
  kUndefined = 0,
  kFloat32,
  kFloat16,
  kBFloat16,
  kFloat8E4M3,
  kFloat64,
  kInt8,
  kUInt8,
  kInt16,
  kUInt16,
  kInt32,
  kUInt32,
  kInt64,
  kUInt64,
  kBool,
  kBytes,
  kCount,  // keep last
};

// Bytes per element; BYTES (strings) reports 0 because its elements have no fixed size.
size_t dtype_size(DType dtype);
// Canonical lower-case names: "float32", "float16", "bfloat16", "float8e4m3", "float64", "int8",
// ..., "bool", "bytes".
std::string_view dtype_name(DType dtype);
// Accepts the canonical names and the common aliases ("fp32", "FP16", "TYPE_FP32", "half", ...).
std::optional<DType> dtype_from_name(std::string_view name);

bool dtype_is_floating(DType dtype);
bool dtype_is_integer(DType dtype);  // bool excluded
bool dtype_is_signed(DType dtype);

}  // namespace kiln
