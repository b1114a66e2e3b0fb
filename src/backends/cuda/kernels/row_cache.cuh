// Row caching for warp-per-row kernels: a warp keeps a row of up to kWarpSize * kPerLane values
// in registers (lane l holds columns l, l + 32, ...), so the row is read from memory once.
// kPerLane is a template constant so the register array is only indexed by unrolled constants.
#pragma once

#include <type_traits>

#include "backends/cuda/kernels/device_common.cuh"

namespace kiln::cuda {

// Largest row a warp caches; longer rows use the block-per-row kernels.
inline constexpr int kMaxPerLane = 32;
inline constexpr int64_t kMaxWarpRowCols = static_cast<int64_t>(kWarpSize) * kMaxPerLane;

template <int kPerLane, class T>
__device__ __forceinline__ void load_row(const T* row, int cols, int lane, float (&v)[kPerLane], float fill) {
#pragma unroll
  for (int j = 0; j < kPerLane; ++j) {
    const int c = lane + j * kWarpSize;
    v[j] = c < cols ? to_float(row[c]) : fill;
  }
}

template <int kPerLane, class T>
__device__ __forceinline__ void store_row(T* row, int cols, int lane, const float (&v)[kPerLane]) {
#pragma unroll
  for (int j = 0; j < kPerLane; ++j) {
    const int c = lane + j * kWarpSize;
    if (c < cols) row[c] = from_float<T>(v[j]);
  }
}

// Smallest per-lane count from {1, 2, 4, 8, 16, 32} that covers `cols`.
inline int per_lane_for(int64_t cols) {
  int per_lane = 1;
  while (static_cast<int64_t>(per_lane) * kWarpSize < cols) per_lane *= 2;
  return per_lane;
}

// Calls f(std::integral_constant<int, N>{}) for the N matching per_lane.
template <class F>
auto with_per_lane(int per_lane, F&& f) {
  switch (per_lane) {
    case 1: return f(std::integral_constant<int, 1>{});
    case 2: return f(std::integral_constant<int, 2>{});
    case 4: return f(std::integral_constant<int, 4>{});
    case 8: return f(std::integral_constant<int, 8>{});
    case 16: return f(std::integral_constant<int, 16>{});
    default: return f(std::integral_constant<int, kMaxPerLane>{});
  }
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
