// LayerNormalization over the last axis with an optional fused residual add. Rows of up to
// kMaxWarpRowCols columns: one warp per row, the row in registers (16-byte accesses where the
// row allows), mean then variance of the cached values (two-pass, so no catastrophic
// cancellation). Longer rows: one block per row re-reading memory. Statistics in float.
#include "backends/cuda/kernels/row_cache.cuh"
#include "backends/cuda/kernels/row_ops.h"

namespace kiln::cuda {
namespace {

constexpr int kWarpsPerBlock = 4;
constexpr int kBlockRowThreads = 512;

template <class T>
struct LayerNormPointers {
  const T* x;
  const T* residual;
  const T* gamma;
  const T* beta;
  T* y;
  T* sum_out;
};

template <class T>
__device__ __forceinline__ float input_at(const LayerNormPointers<T>& p, int64_t offset) {
  float v = to_float(p.x[offset]);
  if (p.residual != nullptr) v += to_float(p.residual[offset]);
  return v;
}

template <int kChunks, int kWidth, class T>
__global__ void layer_norm_warp_kernel(LayerNormPointers<T> p, int64_t rows, int cols, float epsilon) {
  constexpr int kPerLane = kChunks * kWidth;
  const int lane = static_cast<int>(threadIdx.x) % kWarpSize;
  const int64_t row = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / kWarpSize;
  if (row >= rows) return;
  const int64_t base = row * cols;
  float v[kPerLane];
  load_row<kChunks, kWidth>(p.x + base, cols, lane, v, 0.0f);
  if (p.residual != nullptr) {
    float r[kPerLane];
    load_row<kChunks, kWidth>(p.residual + base, cols, lane, r, 0.0f);
#pragma unroll
    for (int j = 0; j < kPerLane; ++j) v[j] += r[j];
  }
  if (p.sum_out != nullptr) store_row<kChunks, kWidth>(p.sum_out + base, cols, lane, v);
  float sum = 0.0f;
#pragma unroll
  for (int j = 0; j < kPerLane; ++j) sum += v[j];  // padding holds 0
  const float mean = warp_sum(sum) / static_cast<float>(cols);
  float squares = 0.0f;
#pragma unroll
  for (int j = 0; j < kChunks; ++j) {
    if (chunk_start<kWidth>(lane, j) < cols) {
#pragma unroll
      for (int e = 0; e < kWidth; ++e) {
        const float d = v[j * kWidth + e] - mean;
        squares += d * d;
      }
    }
  }
  const float inv_std = rsqrtf(warp_sum(squares) / static_cast<float>(cols) + epsilon);
#pragma unroll
  for (int j = 0; j < kChunks; ++j) {
    const int c0 = chunk_start<kWidth>(lane, j);
    if (c0 >= cols) continue;
    const Pack<T, kWidth> gamma = *reinterpret_cast<const Pack<T, kWidth>*>(p.gamma + c0);
    Pack<T, kWidth> beta{};
    if (p.beta != nullptr) beta = *reinterpret_cast<const Pack<T, kWidth>*>(p.beta + c0);
    Pack<T, kWidth> out;
#pragma unroll
    for (int e = 0; e < kWidth; ++e) {
      float o = (v[j * kWidth + e] - mean) * inv_std * to_float(gamma.e[e]);
      if (p.beta != nullptr) o += to_float(beta.e[e]);
      out.e[e] = from_float<T>(o);
    }
    *reinterpret_cast<Pack<T, kWidth>*>(p.y + base + c0) = out;
  }
}

template <class T>
__global__ void layer_norm_block_kernel(LayerNormPointers<T> p, int64_t cols, float epsilon) {
  __shared__ float scratch[kBlockRowThreads / kWarpSize];
  const int64_t base = static_cast<int64_t>(blockIdx.x) * cols;
  float sum = 0.0f;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) {
    const float v = input_at(p, base + c);
    if (p.sum_out != nullptr) p.sum_out[base + c] = from_float<T>(v);
    sum += v;
  }
  const float mean = block_sum(sum, scratch) / static_cast<float>(cols);
  float squares = 0.0f;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) {
    const float d = input_at(p, base + c) - mean;
    squares += d * d;
  }
  const float inv_std = rsqrtf(block_sum(squares, scratch) / static_cast<float>(cols) + epsilon);
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) {
    float out = (input_at(p, base + c) - mean) * inv_std * to_float(p.gamma[c]);
    if (p.beta != nullptr) out += to_float(p.beta[c]);
    p.y[base + c] = from_float<T>(out);
  }
}

template <class T>
Status launch(const LayerNormArgs& a, cudaStream_t stream) {
  const LayerNormPointers<T> p{static_cast<const T*>(a.x),     static_cast<const T*>(a.residual),
                               static_cast<const T*>(a.gamma), static_cast<const T*>(a.beta),
                               static_cast<T*>(a.y),           static_cast<T*>(a.sum_out)};
  if (a.cols <= kMaxWarpRowCols) {
    const auto blocks = static_cast<unsigned>((a.rows + kWarpsPerBlock - 1) / kWarpsPerBlock);
    const bool vectorizable = vector_aligned(a.x) && vector_aligned(a.residual) && vector_aligned(a.gamma) &&
                              vector_aligned(a.beta) && vector_aligned(a.y) && vector_aligned(a.sum_out);
    return with_row_layout<T>(a.cols, vectorizable, [&](auto chunks, auto width) {
      layer_norm_warp_kernel<decltype(chunks)::value, decltype(width)::value, T>
          <<<blocks, kWarpsPerBlock * kWarpSize, 0, stream>>>(p, a.rows, static_cast<int>(a.cols), a.epsilon);
      return check_launch("layer_norm_warp_kernel");
    });
  }
  layer_norm_block_kernel<T><<<static_cast<unsigned>(a.rows), kBlockRowThreads, 0, stream>>>(p, a.cols, a.epsilon);
  return check_launch("layer_norm_block_kernel");
}

}  // namespace

Status layer_norm_last_axis(DType dtype, const LayerNormArgs& args, cudaStream_t stream) {
  constexpr int64_t kMaxGridX = 2147483647;
  if (args.rows < 0 || args.cols < 0) {
    return invalid_argument("layer_norm_last_axis: negative shape rows=" + std::to_string(args.rows) +
                            " cols=" + std::to_string(args.cols));
  }
  if (args.rows > kMaxGridX) return unimplemented("layer_norm_last_axis: " + std::to_string(args.rows) + " rows exceed one launch");
  if (args.x == nullptr || args.gamma == nullptr || args.y == nullptr) {
    return invalid_argument("layer_norm_last_axis: x, gamma (Scale) and y are required");
  }
  if (!(args.epsilon > 0.0f)) return invalid_argument("layer_norm_last_axis: epsilon must be positive, got " + std::to_string(args.epsilon));
  if (args.rows == 0 || args.cols == 0) return Status::ok_status();
  return dispatch_float_storage("layer_norm_last_axis", dtype, [&](auto tag) { return launch<decltype(tag)>(args, stream); });
}

}  // namespace kiln::cuda
