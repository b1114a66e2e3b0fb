#include "kiln/tensor.h"

#include <cstdlib>
#include <cstring>
#include <new>

namespace kiln {
namespace {

// 64-byte alignment suits AVX-512 loads and cache lines.
constexpr size_t kAlignment = 64;

std::shared_ptr<void> allocate_zeroed(size_t bytes) {
  size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  if (rounded == 0) rounded = kAlignment;
  void* p = std::aligned_alloc(kAlignment, rounded);
  if (p == nullptr) throw std::bad_alloc();
  std::memset(p, 0, rounded);
  return {p, [](void* q) { std::free(q); }};
}

}  // namespace

Tensor::Tensor(DType dtype, Shape shape) : dtype_(dtype), shape_(std::move(shape)) {
  if (dtype_ == DType::kBytes) {
    strings_ = std::make_shared<std::vector<std::string>>(static_cast<size_t>(shape_.numel()));
    return;
  }
  owner_ = allocate_zeroed(nbytes());
  data_ = owner_.get();
}

Tensor Tensor::wrap(DType dtype, Shape shape, std::shared_ptr<void> owner, void* data) {
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  t.owner_ = std::move(owner);
  t.data_ = data;
  return t;
}

Tensor Tensor::from_strings(Shape shape, std::vector<std::string> values) {
  Tensor t;
  t.dtype_ = DType::kBytes;
  t.shape_ = std::move(shape);
  t.strings_ = std::make_shared<std::vector<std::string>>(std::move(values));
  return t;
}

Result<Tensor> Tensor::reshaped(Shape shape) const {
  if (shape.checked_numel() != numel())
    return invalid_argument("cannot reshape a tensor of shape " + shape_.to_string() + " to " +
                            shape.to_string());
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

Tensor Tensor::clone() const {
  if (!defined()) return {};
  if (dtype_ == DType::kBytes) return from_strings(shape_, *strings_);
  Tensor t(dtype_, shape_);
  if (nbytes() > 0) std::memcpy(t.data_, data_, nbytes());
  return t;
}

}  // namespace kiln
