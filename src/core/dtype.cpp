#include "kiln/dtype.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

namespace kiln {
namespace {

struct DTypeInfo {
  DType dtype;
  std::string_view name;
  size_t size;
};

constexpr std::array<DTypeInfo, static_cast<size_t>(DType::kCount)> kInfo = {{
    {DType::kUndefined, "undefined", 0},
    {DType::kFloat32, "float32", 4},
    {DType::kFloat16, "float16", 2},
    {DType::kBFloat16, "bfloat16", 2},
    {DType::kFloat8E4M3, "float8e4m3", 1},
    {DType::kFloat64, "float64", 8},
    {DType::kInt8, "int8", 1},
    {DType::kUInt8, "uint8", 1},
    {DType::kInt16, "int16", 2},
    {DType::kUInt16, "uint16", 2},
    {DType::kInt32, "int32", 4},
    {DType::kUInt32, "uint32", 4},
    {DType::kInt64, "int64", 8},
    {DType::kUInt64, "uint64", 8},
    {DType::kBool, "bool", 1},
    {DType::kBytes, "bytes", 0},
}};

// The table is indexed by the enum value; fail the build if the two drift apart.
constexpr bool table_matches_enum() {
  for (size_t i = 0; i < kInfo.size(); ++i)
    if (static_cast<size_t>(kInfo[i].dtype) != i) return false;
  return true;
}
static_assert(table_matches_enum(), "kInfo must list every DType in enum order");

struct Alias {
  std::string_view alias;
  DType dtype;
};
constexpr Alias kAliases[] = {
    {"fp32", DType::kFloat32},   {"float", DType::kFloat32},   {"fp16", DType::kFloat16},
    {"half", DType::kFloat16},   {"bf16", DType::kBFloat16},   {"fp8", DType::kFloat8E4M3},
    {"fp8e4m3", DType::kFloat8E4M3}, {"fp64", DType::kFloat64}, {"double", DType::kFloat64},
    {"string", DType::kBytes},   {"type_fp32", DType::kFloat32}, {"type_fp16", DType::kFloat16},
    {"type_bf16", DType::kBFloat16}, {"type_fp64", DType::kFloat64}, {"type_int8", DType::kInt8},
    {"type_uint8", DType::kUInt8}, {"type_int16", DType::kInt16}, {"type_uint16", DType::kUInt16},
    {"type_int32", DType::kInt32}, {"type_uint32", DType::kUInt32}, {"type_int64", DType::kInt64},
    {"type_uint64", DType::kUInt64}, {"type_bool", DType::kBool}, {"type_string", DType::kBytes},
    {"fp8_e4m3", DType::kFloat8E4M3},
};

}  // namespace

size_t dtype_size(DType dtype) {
  auto i = static_cast<size_t>(dtype);
  return i < kInfo.size() ? kInfo[i].size : 0;
}

std::string_view dtype_name(DType dtype) {
  auto i = static_cast<size_t>(dtype);
  return i < kInfo.size() ? kInfo[i].name : "invalid";
}

std::optional<DType> dtype_from_name(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const auto& info : kInfo)
    if (info.name == lower && info.dtype != DType::kUndefined) return info.dtype;
  for (const auto& alias : kAliases)
    if (alias.alias == lower) return alias.dtype;
  return std::nullopt;
}

bool dtype_is_floating(DType dtype) {
  switch (dtype) {
    case DType::kFloat32: case DType::kFloat16: case DType::kBFloat16:
    case DType::kFloat8E4M3: case DType::kFloat64:
      return true;
    default:
      return false;
  }
}

bool dtype_is_integer(DType dtype) {
  switch (dtype) {
    case DType::kInt8: case DType::kUInt8: case DType::kInt16: case DType::kUInt16:
    case DType::kInt32: case DType::kUInt32: case DType::kInt64: case DType::kUInt64:
      return true;
    default:
      return false;
  }
}

bool dtype_is_signed(DType dtype) {
  switch (dtype) {
    case DType::kInt8: case DType::kInt16: case DType::kInt32: case DType::kInt64:
      return true;
    default:
      return dtype_is_floating(dtype);
  }
}

}  // namespace kiln
