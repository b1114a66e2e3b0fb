// GlobalAveragePool over NCHW: the mean of each contiguous row of H*W values, one warp per row,
// FP32 accumulation.
#include "backends/cuda/kernels/device_common.cuh"
#include "backends/cuda/kernels/row_ops.h"

namespace kiln::cuda {
namespace {

constexpr int kWarpsPerBlock = 8;

template <class T>
__global__ void row_mean_kernel(const T* __restrict__ x, T* __restrict__ y, int64_t rows, int64_t cols) {
  const int lane = static_cast<int>(threadIdx.x) % kWarpSize;
  const int64_t row = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / kWarpSize;
  if (row >= rows) return;
  const T* in = x + row * cols;
  float sum = 0.0f;
  for (int64_t c = lane; c < cols; c += kWarpSize) sum += to_float(in[c]);
  sum = warp_sum(sum);
  if (lane == 0) y[row] = from_float<T>(sum / static_cast<float>(cols));
}

}  // namespace

Status row_mean(DType dtype, const void* x, void* y, int64_t rows, int64_t cols, cudaStream_t stream) {
  if (rows < 0 || cols <= 0) return invalid_argument("row_mean: rows must be non-negative and cols positive");
  if (rows == 0) return Status::ok_status();
  if (x == nullptr || y == nullptr) return invalid_argument("row_mean: null pointer");
  constexpr int64_t kMaxBlocks = 2147483647;
  const int64_t blocks = (rows + kWarpsPerBlock - 1) / kWarpsPerBlock;
  if (blocks > kMaxBlocks) return invalid_argument("row_mean: too many rows");
  return dispatch_float_storage("row_mean", dtype, [&](auto tag) {
    using T = decltype(tag);
    row_mean_kernel<T><<<static_cast<unsigned>(blocks), kWarpsPerBlock * kWarpSize, 0, stream>>>(static_cast<const T*>(x),
                                                                                              static_cast<T*>(y), rows, cols);
    return check_launch("row_mean_kernel");
  });
}

}  // namespace kiln::cuda
