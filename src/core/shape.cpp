#include "kiln/shape.h"

#include <charconv>

#include "core/checked_math.h"

namespace kiln {

bool Shape::is_static() const {
  for (int64_t d : dims_)
    if (d < 0) return false;
  return true;
}

int64_t Shape::numel() const {
  // A zero dim first: the product of the others may not fit (a decoder found [huge, huge, 0]).
  for (int64_t d : dims_)
    if (d == 0) return 0;
  int64_t n = 1;
  for (int64_t d : dims_) n *= d;
  return n;
}

std::optional<int64_t> Shape::checked_numel() const {
  if (!is_static()) return std::nullopt;
  return checked_product(dims_);
}

std::string Shape::to_string() const {
  if (dims_.empty()) return "scalar";
  std::string out;
  for (size_t i = 0; i < dims_.size(); ++i) {
    if (i) out += 'x';
    out += dims_[i] < 0 ? std::string("?") : std::to_string(dims_[i]);
  }
  return out;
}

std::optional<Shape> Shape::parse(const std::string& text) {
  Shape shape;
  if (text.empty() || text == "scalar") return shape;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find_first_of("x,", pos);
    if (end == std::string::npos) end = text.size();
    int64_t value = 0;
    const char* first = text.data() + pos;
    const char* last = text.data() + end;
    auto [ptr, ec] = std::from_chars(first, last, value);
    if (ec != std::errc() || ptr != last || value < 0) return std::nullopt;
    shape.dims_.push_back(value);
    pos = end + 1;
  }
  return shape;
}

std::vector<int64_t> contiguous_strides(const Shape& shape) {
  std::vector<int64_t> strides(shape.rank(), 1);
  for (size_t i = shape.rank(); i-- > 1;) strides[i - 1] = strides[i] * shape[i];
  return strides;
}

}  // namespace kiln
