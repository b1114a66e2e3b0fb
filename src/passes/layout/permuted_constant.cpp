#include "passes/layout/permuted_constant.h"

#include <cstring>

namespace kiln::passes {

Tensor permuted_constant(const Tensor& t, const std::array<int64_t, 4>& perm) {
  const Shape& s = t.shape();
  std::array<int64_t, 4> in_strides{s[1] * s[2] * s[3], s[2] * s[3], s[3], 1};
  std::array<int64_t, 4> dims{}, strides{};
  for (size_t d = 0; d < 4; ++d) {
    dims[d] = s[static_cast<size_t>(perm[d])];
    strides[d] = in_strides[static_cast<size_t>(perm[d])];
  }
  Tensor out(t.dtype(), Shape{dims[0], dims[1], dims[2], dims[3]});
  const size_t esize = dtype_size(t.dtype());
  const auto* src = static_cast<const unsigned char*>(t.raw_data());
  auto* dst = static_cast<unsigned char*>(out.raw_data());
  size_t to = 0;
  for (int64_t a = 0; a < dims[0]; ++a)
    for (int64_t b = 0; b < dims[1]; ++b)
      for (int64_t c = 0; c < dims[2]; ++c)
        for (int64_t d = 0; d < dims[3]; ++d, to += esize) {
          const int64_t from = a * strides[0] + b * strides[1] + c * strides[2] + d * strides[3];
          std::memcpy(dst + to, src + static_cast<size_t>(from) * esize, esize);
        }
  return out;
}

}  // namespace kiln::passes
