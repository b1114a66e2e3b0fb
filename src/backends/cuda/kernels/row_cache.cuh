// Row caching for warp-per-row kernels: a warp keeps a row of up to kWarpSize * kMaxPerLane
// values in registers, so the row is read from memory once. Lane `lane` holds kChunks chunks
// of kWidth consecutive columns; chunk j starts at column (lane + j * kWarpSize) * kWidth.
// kWidth is one 16-byte vector of T when the row allows it (cols a multiple of it, pointers
// 16-byte aligned), else 1. Both are template constants so the register array is only indexed
// by unrolled constants (a run-time index would spill it to local memory).
#pragma once

#include <cstdint>
#include <type_traits>

#include "backends/cuda/kernels/device_common.cuh"

namespace kiln::cuda {

// Largest row a warp caches (values per lane x lanes); longer rows use block-per-row kernels.
inline constexpr int kMaxPerLane = 32;
inline constexpr int64_t kMaxWarpRowCols = static_cast<int64_t>(kWarpSize) * kMaxPerLane;
inline constexpr int kVectorBytes = 16;

template <class T>
inline constexpr int kVectorWidth = kVectorBytes / static_cast<int>(sizeof(T));

template <class T, int kWidth>
struct alignas(sizeof(T) * kWidth) Pack {
  T e[kWidth];
};

template <int kWidth>
__device__ __forceinline__ int chunk_start(int lane, int j) {
  return (lane + j * kWarpSize) * kWidth;
}

// Chunks past the row end get `fill`. cols is a multiple of kWidth, so a chunk is either wholly
// inside the row or wholly outside.
template <int kChunks, int kWidth, class T>
__device__ __forceinline__ void load_row(const T* row, int cols, int lane, float (&v)[kChunks * kWidth], float fill) {
#pragma unroll
  for (int j = 0; j < kChunks; ++j) {
    const int c0 = chunk_start<kWidth>(lane, j);
    if (c0 < cols) {
      const Pack<T, kWidth> p = *reinterpret_cast<const Pack<T, kWidth>*>(row + c0);
#pragma unroll
      for (int e = 0; e < kWidth; ++e) v[j * kWidth + e] = to_float(p.e[e]);
    } else {
#pragma unroll
      for (int e = 0; e < kWidth; ++e) v[j * kWidth + e] = fill;
    }
  }
}

template <int kChunks, int kWidth, class T>
__device__ __forceinline__ void store_row(T* row, int cols, int lane, const float (&v)[kChunks * kWidth]) {
#pragma unroll
  for (int j = 0; j < kChunks; ++j) {
    const int c0 = chunk_start<kWidth>(lane, j);
    if (c0 < cols) {
      Pack<T, kWidth> p;
#pragma unroll
      for (int e = 0; e < kWidth; ++e) p.e[e] = from_float<T>(v[j * kWidth + e]);
      *reinterpret_cast<Pack<T, kWidth>*>(row + c0) = p;
    }
  }
}

inline bool vector_aligned(const void* p) {
  return p == nullptr || reinterpret_cast<uintptr_t>(p) % kVectorBytes == 0;
}

// Calls f(integral_constant<kChunks>, integral_constant<kWidth>) for the smallest power-of-two
// chunk count that covers `cols` (cols <= kMaxWarpRowCols).
template <int kWidth, class F>
Status with_chunks(int64_t cols, F&& f) {
  const int64_t chunks_needed = ((cols + kWidth - 1) / kWidth + kWarpSize - 1) / kWarpSize;
  int chunks = 1;
  while (chunks < chunks_needed) chunks *= 2;
  auto call = [&](auto n) -> Status {
    if constexpr (decltype(n)::value * kWidth <= kMaxPerLane) {
      return f(n, std::integral_constant<int, kWidth>{});
    } else {
      return internal_error("row kernel: " + std::to_string(cols) + " columns exceed the warp-row limit");
    }
  };
  switch (chunks) {
    case 1: return call(std::integral_constant<int, 1>{});
    case 2: return call(std::integral_constant<int, 2>{});
    case 4: return call(std::integral_constant<int, 4>{});
    case 8: return call(std::integral_constant<int, 8>{});
    case 16: return call(std::integral_constant<int, 16>{});
    default: return call(std::integral_constant<int, kMaxPerLane>{});
  }
}

// 16-byte chunks when `vectorizable` and cols is a multiple of the vector width, else single values.
template <class T, class F>
Status with_row_layout(int64_t cols, bool vectorizable, F&& f) {
  if (vectorizable && cols % kVectorWidth<T> == 0) return with_chunks<kVectorWidth<T>>(cols, f);
  return with_chunks<1>(cols, f);
}

// Block-wide sum for the block-per-row kernels; `scratch` holds one float per warp.
__device__ __forceinline__ float block_sum(float v, float* scratch) {
  const int lane = static_cast<int>(threadIdx.x) % kWarpSize;
  const int warp = static_cast<int>(threadIdx.x) / kWarpSize;
  const int warps = static_cast<int>(blockDim.x) / kWarpSize;
  v = warp_sum(v);
  __syncthreads();  // scratch may still be read from a previous reduction
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < warps ? scratch[lane] : 0.0f;
  return warp_sum(v);
}

__device__ __forceinline__ float block_max(float v, float* scratch) {
  const int lane = static_cast<int>(threadIdx.x) % kWarpSize;
  const int warp = static_cast<int>(threadIdx.x) / kWarpSize;
  const int warps = static_cast<int>(blockDim.x) / kWarpSize;
  v = warp_max(v);
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < warps ? scratch[lane] : -INFINITY;
  return warp_max(v);
}

}  // namespace kiln::cuda
