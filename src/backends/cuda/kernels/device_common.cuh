// Shared by the .cu kernels: storage <-> float conversion for the three float storage types,
// warp reductions, launch-error checking and the DType -> storage type dispatch. Device code
// computes in float whatever the storage type.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <string>

#include "backends/cuda/cuda_status.h"
#include "kiln/dtype.h"
#include "kiln/status.h"

namespace kiln::cuda {

inline constexpr int kWarpSize = 32;
inline constexpr unsigned kFullWarpMask = 0xffffffffu;

__device__ __forceinline__ float to_float(float v) { return v; }
__device__ __forceinline__ float to_float(__half v) { return __half2float(v); }
__device__ __forceinline__ float to_float(__nv_bfloat16 v) { return __bfloat162float(v); }

template <class T>
__device__ __forceinline__ T from_float(float v);
template <>
__device__ __forceinline__ float from_float<float>(float v) { return v; }
template <>
__device__ __forceinline__ __half from_float<__half>(float v) { return __float2half_rn(v); }
template <>
__device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }

__device__ __forceinline__ float warp_sum(float v) {
  for (int offset = kWarpSize / 2; offset > 0; offset /= 2) v += __shfl_xor_sync(kFullWarpMask, v, offset);
  return v;
}

__device__ __forceinline__ float warp_max(float v) {
  for (int offset = kWarpSize / 2; offset > 0; offset /= 2) v = fmaxf(v, __shfl_xor_sync(kFullWarpMask, v, offset));
  return v;
}

// Reports a failed launch (bad configuration, no kernel image for this GPU) by name.
inline Status check_launch(const char* kernel) { return cuda_status(cudaGetLastError(), kernel); }

inline Status unsupported_float_dtype(const char* op, DType dtype) {
  return unimplemented(std::string(op) + ": the CUDA backend handles float32, float16 and bfloat16, not " +
                       std::string(dtype_name(dtype)));
}

// Calls f(T{}) with T the device storage type of `dtype`, or reports the dtype as unsupported.
template <class F>
Status dispatch_float_storage(const char* op, DType dtype, F&& f) {
  switch (dtype) {
    case DType::kFloat32: return f(float{});
    case DType::kFloat16: return f(__half{});
    case DType::kBFloat16: return f(__nv_bfloat16{});
    default: return unsupported_float_dtype(op, dtype);
  }
}

// Grid size for a grid-stride loop over n items: enough blocks to fill the GPU, capped so
// huge tensors loop rather than launch millions of blocks.
inline unsigned grid_for(int64_t n, int threads_per_block) {
  constexpr int64_t kMaxBlocks = 65535;
  const int64_t blocks = (n + threads_per_block - 1) / threads_per_block;
  return static_cast<unsigned>(blocks < 1 ? 1 : (blocks > kMaxBlocks ? kMaxBlocks : blocks));
}

}  // namespace kiln::cuda
