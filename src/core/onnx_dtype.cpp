#include "core/onnx_dtype.h"

#include <array>

namespace kiln {
namespace {

struct Pair {
  DType dtype;
  OnnxDataType onnx;
};

constexpr std::array<Pair, 15> kPairs = {{
    {DType::kFloat32, OnnxDataType::kFloat},
    {DType::kFloat16, OnnxDataType::kFloat16},
    {DType::kBFloat16, OnnxDataType::kBFloat16},
    {DType::kFloat8E4M3, OnnxDataType::kFloat8E4M3FN},
    {DType::kFloat64, OnnxDataType::kDouble},
    {DType::kInt8, OnnxDataType::kInt8},
    {DType::kUInt8, OnnxDataType::kUInt8},
    {DType::kInt16, OnnxDataType::kInt16},
    {DType::kUInt16, OnnxDataType::kUInt16},
    {DType::kInt32, OnnxDataType::kInt32},
    {DType::kUInt32, OnnxDataType::kUInt32},
    {DType::kInt64, OnnxDataType::kInt64},
    {DType::kUInt64, OnnxDataType::kUInt64},
    {DType::kBool, OnnxDataType::kBool},
    {DType::kBytes, OnnxDataType::kString},
}};

// Every dtype except kUndefined has exactly one ONNX number.
static_assert(kPairs.size() + 1 == static_cast<size_t>(DType::kCount), "map every DType to ONNX");

}  // namespace

std::optional<DType> dtype_from_onnx(int32_t onnx_type) {
  for (const Pair& p : kPairs)
    if (static_cast<int32_t>(p.onnx) == onnx_type) return p.dtype;
  return std::nullopt;
}

int32_t onnx_from_dtype(DType dtype) {
  for (const Pair& p : kPairs)
    if (p.dtype == dtype) return static_cast<int32_t>(p.onnx);
  return static_cast<int32_t>(OnnxDataType::kUndefined);
}

}  // namespace kiln
