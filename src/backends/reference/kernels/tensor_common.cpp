#include "backends/reference/kernels/tensor_common.h"

#include <cstring>
#include <limits>

#include "core/tensor_values.h"

namespace kiln::reference::tensor_ops {

Result<int64_t> checked_numel(const Shape& shape, const std::string& what) {
  int64_t n = 1;
  for (int64_t d : shape.dims()) {
    if (d < 0) return invalid_argument(what + ": dimension " + std::to_string(d) + " in shape " +
                                       shape.to_string() + " is negative");
    if (d != 0 && n > kMaxOutputElements / d)
      return invalid_argument(what + ": shape " + shape.to_string() + " has more than " +
                              std::to_string(kMaxOutputElements) + " elements");
    n *= d;
  }
  return n;
}

Result<Tensor> allocate_output(DType dtype, const Shape& shape, const std::string& what) {
  KILN_ASSIGN_OR_RETURN(int64_t n, checked_numel(shape, what));
  (void)n;
  return Tensor(dtype, shape);
}

ElementCopier::ElementCopier(const Tensor& src, Tensor& dst) {
  if (src.dtype() == DType::kBytes) {
    src_strings_ = &src.strings();
    dst_strings_ = &dst.strings();
  } else {
    src_bytes_ = static_cast<const unsigned char*>(src.raw_data());
    dst_bytes_ = static_cast<unsigned char*>(dst.raw_data());
    element_size_ = dtype_size(src.dtype());
  }
}

void ElementCopier::copy(int64_t dst_index, int64_t src_index, int64_t count) const {
  if (count <= 0) return;
  if (src_strings_ != nullptr) {
    for (int64_t i = 0; i < count; ++i)
      (*dst_strings_)[static_cast<size_t>(dst_index + i)] = (*src_strings_)[static_cast<size_t>(src_index + i)];
    return;
  }
  std::memcpy(dst_bytes_ + static_cast<size_t>(dst_index) * element_size_,
              src_bytes_ + static_cast<size_t>(src_index) * element_size_, static_cast<size_t>(count) * element_size_);
}

Result<const Tensor*> required_input(const KernelContext& ctx, size_t i, const char* op) {
  const Tensor* t = ctx.input(i);
  if (t == nullptr || !t->defined())
    return invalid_argument(std::string(op) + ": required input " + std::to_string(i) + " is missing");
  return t;
}

Result<std::vector<int64_t>> read_indices(const Tensor& t, const std::string& what) {
  return integer_values(t, what);
}

Result<int64_t> resolve_index(int64_t index, int64_t bound, const std::string& what) {
  if (index < -bound || index >= bound)
    return invalid_argument(what + ": index " + std::to_string(index) + " is out of range for a dimension of size " +
                            std::to_string(bound) + " (valid: [" + std::to_string(-bound) + ", " +
                            std::to_string(bound - 1) + "])");
  return index < 0 ? index + bound : index;
}

Result<int64_t> read_scalar_int(const Tensor& t, const std::string& what) {
  if (t.numel() != 1)
    return invalid_argument(what + " must hold exactly one element, got shape " + t.shape().to_string());
  if (t.dtype() == DType::kBytes || !t.defined())
    return invalid_argument(what + " must be numeric, got " + std::string(dtype_name(t.dtype())));
  if (t.dtype() == DType::kInt64) return t.data<int64_t>()[0];
  const double v = to_doubles(t)[0];
  constexpr double kLimit = 9.2e18;  // inside int64's range, so the cast below is defined
  if (!(v > -kLimit && v < kLimit)) return invalid_argument(what + " is not a representable integer");
  return static_cast<int64_t>(v);
}

std::string shape_list_string(const std::vector<int64_t>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) out += (i ? "," : "") + std::to_string(values[i]);
  return out + "]";
}

}  // namespace kiln::reference::tensor_ops

namespace kiln::reference {

void register_tensor_kernels(KernelTable& table) {
  tensor_ops::register_tensor_shape_kernels(table);
  tensor_ops::register_tensor_layout_kernels(table);
  tensor_ops::register_tensor_gather_kernels(table);
  tensor_ops::register_tensor_scatter_kernels(table);
  tensor_ops::register_tensor_create_kernels(table);
}

}  // namespace kiln::reference
