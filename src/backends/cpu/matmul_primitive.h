// A prepared oneDNN matmul, shared by the MatMul, FusedMatMul, Gemm and attention kernels:
// dst = alpha * src @ weights (+ bias) (+ beta * dst) (+ residual) then an activation, with batch
// broadcasting.
// A constant weights operand is reordered once into oneDNN's preferred layout.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "core/attributes.h"
#include "kiln/status.h"

namespace kiln::backends::cpu {

// Operands as oneDNN sees them: equal ranks (>= 2), dims and strides in elements. Batch dims of
// src and weights are equal to dst's or 1.
struct MatmulSpec {
  std::vector<int64_t> src_dims, src_strides;
  std::vector<int64_t> weights_dims, weights_strides;
  std::vector<int64_t> dst_dims;              // dense row-major
  std::vector<int64_t> bias_dims;             // empty: no bias; else dst's rank, 1 except the last
  float alpha = 1.0f;
  float beta = 0.0f;                          // > 0: dst is read (sum post-op) before being written
  bool residual = false;                      // a dense dst-shaped tensor added before the activation
  const Attributes* activation = nullptr;     // fused-op activation attributes, or nullptr
  const void* constant_weights = nullptr;     // reordered at prepare when given
};

class MatmulPrimitive {
 public:
  Status prepare(const MatmulSpec& spec, int threads);
  size_t scratchpad_bytes() const { return scratchpad_.get_size(); }
  // bias and residual may be nullptr when the spec has none; weights is ignored when it was
  // constant.
  void execute(const void* src, const void* weights, const void* bias, void* dst, void* scratchpad,
               const void* residual = nullptr) const;
  const std::string& impl() const { return impl_; }

 private:
  dnnl::matmul matmul_;
  dnnl::memory::desc src_, weights_, bias_, dst_, scratchpad_;
  dnnl::memory packed_weights_;
  int residual_post_op_ = -1;  // index of the residual's binary post-op, -1 when none
  std::string impl_;
};

// Row-major strides of `dims`.
std::vector<int64_t> dense_strides(const std::vector<int64_t>& dims);

}  // namespace kiln::backends::cpu
