// Softmax over the last axis. Rows of up to kMaxWarpRowCols columns: one warp per row with the
// row cached in registers (one read, one write; 16-byte accesses where the row allows). Longer rows: one block per row, three passes
// (max, sum of exponentials, write) over memory. Statistics in float.
#include <type_traits>

#include "backends/cuda/kernels/row_cache.cuh"
#include "backends/cuda/kernels/row_ops.h"

namespace kiln::cuda {
namespace {

constexpr int kWarpsPerBlock = 4;
constexpr int kBlockRowThreads = 512;

template <int kChunks, int kWidth, class T>
__global__ void softmax_warp_kernel(const T* __restrict__ x, T* __restrict__ y, int64_t rows, int cols) {
  constexpr int kPerLane = kChunks * kWidth;
  const int lane = static_cast<int>(threadIdx.x) % kWarpSize;
  const int64_t row = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / kWarpSize;
  if (row >= rows) return;
  float v[kPerLane];
  load_row<kChunks, kWidth>(x + row * cols, cols, lane, v, -INFINITY);
  float max_v = -INFINITY;
#pragma unroll
  for (int j = 0; j < kPerLane; ++j) max_v = fmaxf(max_v, v[j]);
  max_v = warp_max(max_v);
  float sum = 0.0f;
#pragma unroll
  for (int j = 0; j < kPerLane; ++j) {
    v[j] = expf(v[j] - max_v);  // padding holds -inf -> 0
    sum += v[j];
  }
  const float inv_sum = 1.0f / warp_sum(sum);
#pragma unroll
  for (int j = 0; j < kPerLane; ++j) v[j] *= inv_sum;
  store_row<kChunks, kWidth>(y + row * cols, cols, lane, v);
}

template <class T>
__global__ void softmax_block_kernel(const T* __restrict__ x, T* __restrict__ y, int64_t cols) {
  __shared__ float scratch[kBlockRowThreads / kWarpSize];
  const T* in = x + static_cast<int64_t>(blockIdx.x) * cols;
  T* out = y + static_cast<int64_t>(blockIdx.x) * cols;
  float max_v = -INFINITY;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) max_v = fmaxf(max_v, to_float(in[c]));
  max_v = block_max(max_v, scratch);
  float sum = 0.0f;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) sum += expf(to_float(in[c]) - max_v);
  const float inv_sum = 1.0f / block_sum(sum, scratch);
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) out[c] = from_float<T>(expf(to_float(in[c]) - max_v) * inv_sum);
}

template <class T>
Status launch(const T* x, T* y, int64_t rows, int64_t cols, cudaStream_t stream) {
  if (cols <= kMaxWarpRowCols) {
    const auto blocks = static_cast<unsigned>((rows + kWarpsPerBlock - 1) / kWarpsPerBlock);
    return with_row_layout<T>(cols, vector_aligned(x) && vector_aligned(y), [&](auto chunks, auto width) {
      softmax_warp_kernel<decltype(chunks)::value, decltype(width)::value, T>
          <<<blocks, kWarpsPerBlock * kWarpSize, 0, stream>>>(x, y, rows, static_cast<int>(cols));
      return check_launch("softmax_warp_kernel");
    });
  }
  softmax_block_kernel<T><<<static_cast<unsigned>(rows), kBlockRowThreads, 0, stream>>>(x, y, cols);
  return check_launch("softmax_block_kernel");
}

}  // namespace

Status softmax_last_axis(DType dtype, const void* x, void* y, int64_t rows, int64_t cols, cudaStream_t stream) {
  constexpr int64_t kMaxGridX = 2147483647;
  if (rows < 0 || cols < 0) {
    return invalid_argument("softmax_last_axis: negative shape rows=" + std::to_string(rows) + " cols=" + std::to_string(cols));
  }
  if (rows > kMaxGridX) return unimplemented("softmax_last_axis: " + std::to_string(rows) + " rows exceed one launch");
  if (rows == 0 || cols == 0) return Status::ok_status();
  return dispatch_float_storage("softmax_last_axis", dtype, [&](auto tag) {
    using T = decltype(tag);
    return launch<T>(static_cast<const T*>(x), static_cast<T*>(y), rows, cols, stream);
  });
}

}  // namespace kiln::cuda
