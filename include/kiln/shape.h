// A concrete or partially known shape. A dimension of kDynamicDim is not known yet.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

namespace kiln {

inline constexpr int64_t kDynamicDim = -1;

class Shape {
 public:
  Shape() = default;
  Shape(std::initializer_list<int64_t> dims) : dims_(dims) {}
  explicit Shape(std::vector<int64_t> dims) : dims_(std::move(dims)) {}

  size_t rank() const { return dims_.size(); }
  int64_t operator[](size_t i) const { return dims_[i]; }
  int64_t& operator[](size_t i) { return dims_[i]; }
  const std::vector<int64_t>& dims() const { return dims_; }
  std::vector<int64_t>& dims() { return dims_; }
  bool is_static() const;
  // Product of all dims; 1 for a scalar. Only meaningful when is_static() and the product fits
  // in int64: use checked_numel() for shapes that come from model data.
  int64_t numel() const;
  // Product of all dims, or nullopt when a dim is dynamic or the product overflows int64.
  std::optional<int64_t> checked_numel() const;
  // "1x3x224x224", "?x128" for dynamic dims, "scalar" for rank 0.
  std::string to_string() const;
  // Parses "1x3x224x224" (the --shapes syntax); an empty string is a scalar.
  static std::optional<Shape> parse(const std::string& text);

  friend bool operator==(const Shape&, const Shape&) = default;

 private:
  std::vector<int64_t> dims_;
};

// Row-major strides in elements.
std::vector<int64_t> contiguous_strides(const Shape& shape);

}  // namespace kiln
