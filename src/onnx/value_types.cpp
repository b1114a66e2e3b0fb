#include "onnx/value_types.h"

#include <onnx/onnx_pb.h>

#include <limits>

#include "onnx/proto_tensor.h"

namespace kiln::onnx_import {
namespace {

// Declared sizes whose product exceeds this cannot describe a real tensor; rejecting them keeps
// every later element-count computation inside int64.
constexpr int64_t kMaxDeclaredElements = std::numeric_limits<int64_t>::max() / 16;

}  // namespace

Result<ir::ValueType> value_type_from_proto(const onnx::TypeProto& type, const std::string& what) {
  ir::ValueType out;
  if (type.value_case() == onnx::TypeProto::VALUE_NOT_SET) return out;
  if (type.value_case() != onnx::TypeProto::kTensorType)
    return unimplemented(what + " is not a tensor (sequence, map, optional and sparse values are not supported)");
  const auto& tensor = type.tensor_type();
  if (tensor.elem_type() != onnx::TensorProto::UNDEFINED) {
    KILN_ASSIGN_OR_RETURN(out.dtype, dtype_from_onnx(tensor.elem_type(), what));
  }
  if (!tensor.has_shape()) return out;
  ir::SymShape shape;
  int64_t known_product = 1;
  shape.reserve(static_cast<size_t>(tensor.shape().dim_size()));
  for (const auto& dim : tensor.shape().dim()) {
    if (dim.has_dim_value()) {
      if (dim.dim_value() < 0)
        return invalid_argument(what + " has a negative dimension " + std::to_string(dim.dim_value()));
      if (dim.dim_value() > 0 && known_product > kMaxDeclaredElements / dim.dim_value())
        return invalid_argument(what + " declares a shape too large to exist");
      if (dim.dim_value() > 0) known_product *= dim.dim_value();
      shape.push_back(ir::Dim::known(dim.dim_value()));
    } else if (dim.has_dim_param() && !dim.dim_param().empty()) {
      shape.push_back(ir::Dim::symbolic(dim.dim_param()));
    } else {
      shape.push_back(ir::Dim{});
    }
  }
  out.shape = std::move(shape);
  return out;
}

}  // namespace kiln::onnx_import
