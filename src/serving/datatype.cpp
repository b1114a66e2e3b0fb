#include "serving/datatype.h"

#include <array>

namespace kiln::serving {
namespace {

struct TypeSpelling {
  DType dtype;
  DataType config_type;
  std::string_view wire;
};

constexpr std::array<TypeSpelling, 14> kSpellings = {{
    {DType::kBool, TYPE_BOOL, "BOOL"},
    {DType::kUInt8, TYPE_UINT8, "UINT8"},
    {DType::kUInt16, TYPE_UINT16, "UINT16"},
    {DType::kUInt32, TYPE_UINT32, "UINT32"},
    {DType::kUInt64, TYPE_UINT64, "UINT64"},
    {DType::kInt8, TYPE_INT8, "INT8"},
    {DType::kInt16, TYPE_INT16, "INT16"},
    {DType::kInt32, TYPE_INT32, "INT32"},
    {DType::kInt64, TYPE_INT64, "INT64"},
    {DType::kFloat16, TYPE_FP16, "FP16"},
    {DType::kFloat32, TYPE_FP32, "FP32"},
    {DType::kFloat64, TYPE_FP64, "FP64"},
    {DType::kBytes, TYPE_STRING, "BYTES"},
    {DType::kBFloat16, TYPE_BF16, "BF16"},
}};

}  // namespace

std::optional<DType> dtype_from_config_type(DataType type) {
  for (const TypeSpelling& s : kSpellings) {
    if (s.config_type == type) return s.dtype;
  }
  return std::nullopt;
}

DataType config_type_from_dtype(DType dtype) {
  for (const TypeSpelling& s : kSpellings) {
    if (s.dtype == dtype) return s.config_type;
  }
  return TYPE_INVALID;
}

std::string_view wire_name(DType dtype) {
  for (const TypeSpelling& s : kSpellings) {
    if (s.dtype == dtype) return s.wire;
  }
  return {};
}

std::optional<DType> dtype_from_wire_name(std::string_view name) {
  for (const TypeSpelling& s : kSpellings) {
    if (s.wire == name) return s.dtype;
  }
  return std::nullopt;
}

}  // namespace kiln::serving
