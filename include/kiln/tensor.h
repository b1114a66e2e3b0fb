// Tensor: a dtype, a shape and a reference-counted buffer. Copies share the buffer (like a
// shared_ptr); clone() makes a deep copy. Host memory only for now.
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "kiln/dtype.h"
#include "kiln/shape.h"
#include "kiln/status.h"

namespace kiln {

class Tensor {
 public:
  Tensor() = default;
  // Allocates zero-initialised host memory. The shape must be static.
  Tensor(DType dtype, Shape shape);
  // Wraps memory owned elsewhere; `owner` keeps it alive (for example an mmap'ed file).
  static Tensor wrap(DType dtype, Shape shape, std::shared_ptr<void> owner, void* data);
  // A BYTES tensor.
  static Tensor from_strings(Shape shape, std::vector<std::string> values);
  // A tensor holding a copy of `values` (T must match dtype's storage type).
  template <class T>
  static Tensor from_vector(DType dtype, Shape shape, const std::vector<T>& values);

  bool defined() const { return dtype_ != DType::kUndefined; }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  size_t rank() const { return shape_.rank(); }
  int64_t numel() const { return shape_.numel(); }
  // Size of the element buffer; 0 for BYTES.
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype_); }

  void* raw_data() { return data_; }
  const void* raw_data() const { return data_; }
  template <class T>
  T* data() { return static_cast<T*>(data_); }
  template <class T>
  const T* data() const { return static_cast<const T*>(data_); }

  std::vector<std::string>& strings() { return *strings_; }
  const std::vector<std::string>& strings() const { return *strings_; }

  // Same buffer, new shape with the same element count.
  Result<Tensor> reshaped(Shape shape) const;
  Tensor clone() const;
  // Whether both tensors point at the same buffer.
  bool shares_buffer_with(const Tensor& other) const { return data_ == other.data_ && data_ != nullptr; }

 private:
  DType dtype_ = DType::kUndefined;
  Shape shape_;
  std::shared_ptr<void> owner_;
  void* data_ = nullptr;
  std::shared_ptr<std::vector<std::string>> strings_;
};

template <class T>
Tensor Tensor::from_vector(DType dtype, Shape shape, const std::vector<T>& values) {
  Tensor t(dtype, std::move(shape));
  std::copy(values.begin(), values.end(), t.data<T>());
  return t;
}

}  // namespace kiln
