#include "core/tensor_values.h"

namespace kiln {

Result<std::vector<int64_t>> integer_values(const Tensor& t, const std::string& what) {
  std::vector<int64_t> out(static_cast<size_t>(t.numel()));
  if (t.dtype() == DType::kInt64) {
    for (size_t i = 0; i < out.size(); ++i) out[i] = t.data<int64_t>()[i];
  } else if (t.dtype() == DType::kInt32) {
    for (size_t i = 0; i < out.size(); ++i) out[i] = t.data<int32_t>()[i];
  } else {
    return invalid_argument(what + " must be int32 or int64, got " + std::string(dtype_name(t.dtype())));
  }
  return out;
}

}  // namespace kiln
