// Helpers shared by the nn op tests (tests/ops/nn*_test.cpp): attribute building and the
// padding arithmetic of the ONNX spec, written out independently of src/core/conv_params.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "core/attributes.h"
#include "kiln/tensor.h"
#include "op_test_util.h"

namespace kiln::testing::nn {

// Per-axis explicit padding the test oracles use: begin and end for every spatial axis.
struct Padding {
  std::vector<int64_t> begin;
  std::vector<int64_t> end;
};

// Padding ONNX implies for `auto_pad` (or `pads` when NOTSET) on a forward window; output size
// follows from it as floor((in + begin + end - dilated_kernel) / stride) + 1, or ceil with ceil_mode.
inline Padding forward_padding(const std::string& auto_pad, const std::vector<int64_t>& pads,
                               const std::vector<int64_t>& in, const std::vector<int64_t>& kernel,
                               const std::vector<int64_t>& strides, const std::vector<int64_t>& dilations) {
  const size_t n = in.size();
  Padding p{std::vector<int64_t>(n, 0), std::vector<int64_t>(n, 0)};
  for (size_t a = 0; a < n; ++a) {
    if (auto_pad == "NOTSET") {
      p.begin[a] = pads.empty() ? 0 : pads[a];
      p.end[a] = pads.empty() ? 0 : pads[a + n];
    } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      const int64_t out = (in[a] + strides[a] - 1) / strides[a];
      const int64_t total = std::max<int64_t>(0, (out - 1) * strides[a] + (kernel[a] - 1) * dilations[a] + 1 - in[a]);
      p.begin[a] = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      p.end[a] = total - p.begin[a];
    }
  }
  return p;
}

inline int64_t forward_output(int64_t in, const Padding& p, size_t a, int64_t kernel, int64_t stride,
                              int64_t dilation, bool ceil_mode = false) {
  const int64_t span = in + p.begin[a] + p.end[a] - ((kernel - 1) * dilation + 1);
  int64_t out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
  if (ceil_mode && (out - 1) * stride >= in + p.begin[a]) --out;
  return out;
}

// Sum of elementwise products, in double.
inline double dot(const Tensor& a, const Tensor& b) {
  const std::vector<double> x = values_of(a), y = values_of(b);
  double s = 0.0;
  for (size_t i = 0; i < x.size() && i < y.size(); ++i) s += x[i] * y[i];
  return s;
}

// Row-major flat offset of a multi-index.
inline int64_t flat_index(const std::vector<int64_t>& dims, const std::vector<int64_t>& index) {
  int64_t off = 0;
  for (size_t d = 0; d < dims.size(); ++d) off = off * dims[d] + index[d];
  return off;
}

// Advances a row-major multi-index; false after the last one.
inline bool next_index(const std::vector<int64_t>& dims, std::vector<int64_t>& index) {
  for (size_t d = dims.size(); d-- > 0;) {
    if (++index[d] < dims[d]) return true;
    index[d] = 0;
  }
  return false;
}

}  // namespace kiln::testing::nn
