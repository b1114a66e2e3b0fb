#include "backends/reference/kernel_util.h"

#include "core/tensor_values.h"

namespace kiln::reference {

std::vector<double> to_doubles(const Tensor& t) {
  std::vector<double> out(static_cast<size_t>(t.numel()));
  visit_dtype(t.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* p = t.data<T>();
    for (size_t i = 0; i < out.size(); ++i) out[i] = convert_element<double>(p[i]);
  });
  return out;
}

Tensor from_doubles(DType dtype, const Shape& shape, const std::vector<double>& values) {
  Tensor t(dtype, shape);
  visit_dtype(dtype, [&](auto tag) {
    using T = decltype(tag);
    T* p = t.data<T>();
    for (size_t i = 0; i < values.size(); ++i) p[i] = convert_element<T>(values[i]);
  });
  return t;
}

Result<std::vector<int64_t>> to_int64s(const Tensor& t, const std::string& what) {
  if (t.rank() > 1) return invalid_argument(what + " must be a 1-D tensor, got shape " + t.shape().to_string());
  return integer_values(t, what);
}

Status unsupported_dtype(const char* op, DType dtype) {
  return unimplemented(std::string(op) + " does not support dtype " + std::string(dtype_name(dtype)));
}

}  // namespace kiln::reference
