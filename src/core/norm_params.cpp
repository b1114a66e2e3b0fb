#include "core/norm_params.h"

#include <climits>
#include <string>

#include "core/onnx_dtype.h"

namespace kiln {
namespace {

constexpr int64_t kDefaultLayerNormAxis = -1;

}  // namespace

Result<size_t> layer_norm_first_axis(const Attributes& attrs, size_t rank) {
  const int64_t axis = attrs.get_int("axis", kDefaultLayerNormAxis);
  const auto signed_rank = static_cast<int64_t>(rank);
  if (axis < -signed_rank || axis >= signed_rank)
    return invalid_argument("attribute 'axis' is " + std::to_string(axis) + ", out of range for an input of rank " +
                            std::to_string(rank));
  return static_cast<size_t>(axis < 0 ? axis + signed_rank : axis);
}

Result<DType> layer_norm_stash_dtype(const Attributes& attrs) {
  const int64_t stash = attrs.get_int("stash_type", static_cast<int64_t>(OnnxDataType::kFloat));
  std::optional<DType> dtype;
  if (stash >= 0 && stash <= INT32_MAX) dtype = dtype_from_onnx(static_cast<int32_t>(stash));
  if (!dtype || !dtype_is_floating(*dtype))
    return invalid_argument("attribute 'stash_type' is " + std::to_string(stash) +
                            ", expected an ONNX floating-point element type");
  return *dtype;
}

}  // namespace kiln
