// Row-wise CUDA kernels over the last axis of a [rows, cols] contiguous view: Softmax and
// LayerNormalization. Storage float32/float16/bfloat16; statistics in float.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "kiln/dtype.h"
#include "kiln/status.h"

namespace kiln::cuda {

// y = softmax(x) along the last axis. x and y may alias.
Status softmax_last_axis(DType dtype, const void* x, void* y, int64_t rows, int64_t cols, cudaStream_t stream);

// y = LayerNorm(x + residual) * gamma + beta over the last axis. residual and beta are
// optional (nullptr); when sum_out is non-null the pre-normalization x + residual is stored
// there too (the next residual branch of a transformer block reads it).
struct LayerNormArgs {
  const void* x = nullptr;
  const void* residual = nullptr;
  const void* gamma = nullptr;
  const void* beta = nullptr;
  void* y = nullptr;
  void* sum_out = nullptr;
  int64_t rows = 0;
  int64_t cols = 0;
  float epsilon = 1e-5f;
};
Status layer_norm_last_axis(DType dtype, const LayerNormArgs& args, cudaStream_t stream);

}  // namespace kiln::cuda

namespace kiln::cuda {

// y[r] = mean(x[r, :]) over a [rows, cols] contiguous view (GlobalAveragePool over NCHW).
Status row_mean(DType dtype, const void* x, void* y, int64_t rows, int64_t cols, cudaStream_t stream);

}  // namespace kiln::cuda
