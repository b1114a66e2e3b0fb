// Cast between float32, float16, bfloat16, int64, int32 and bool, one instantiation per pair.
#include <type_traits>

#include "backends/cuda/kernels/device_common.cuh"
#include "backends/cuda/kernels/tensor_ops.h"

namespace kiln::cuda {
namespace {

constexpr int kThreadsPerBlock = 256;

template <class T>
inline constexpr bool kIsHalfType = std::is_same_v<T, __half> || std::is_same_v<T, __nv_bfloat16>;

template <class To, class From>
__device__ __forceinline__ To convert(From v) {
  if constexpr (std::is_same_v<To, From>) {
    return v;
  } else if constexpr (std::is_same_v<To, bool>) {
    if constexpr (kIsHalfType<From>) return to_float(v) != 0.0f;
    else return v != From{0};
  } else if constexpr (kIsHalfType<From>) {
    return convert<To>(to_float(v));
  } else if constexpr (kIsHalfType<To>) {
    return from_float<To>(static_cast<float>(v));
  } else {
    return static_cast<To>(v);
  }
}

template <class From, class To>
__global__ void cast_kernel(const From* __restrict__ src, To* __restrict__ dst, int64_t n) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) dst[i] = convert<To>(src[i]);
}

template <class F>
Status dispatch_numeric(DType dtype, F&& f) {
  switch (dtype) {
    case DType::kFloat32: return f(float{});
    case DType::kFloat16: return f(__half{});
    case DType::kBFloat16: return f(__nv_bfloat16{});
    case DType::kInt64: return f(int64_t{});
    case DType::kInt32: return f(int32_t{});
    case DType::kBool: return f(bool{});
    default: return unimplemented("cast: unsupported dtype " + std::string(dtype_name(dtype)));
  }
}

}  // namespace

bool cast_supports(DType from, DType to) {
  const auto ok = [](DType d) {
    return d == DType::kFloat32 || d == DType::kFloat16 || d == DType::kBFloat16 || d == DType::kInt64 || d == DType::kInt32 ||
           d == DType::kBool;
  };
  return ok(from) && ok(to);
}

Status cast(DType from, DType to, const void* src, void* dst, int64_t n, cudaStream_t stream) {
  if (!cast_supports(from, to)) {
    return unimplemented("cast: " + std::string(dtype_name(from)) + " -> " + std::string(dtype_name(to)) + " is not supported");
  }
  if (n < 0) return invalid_argument("cast: negative element count");
  if (n == 0) return Status::ok_status();
  if (src == nullptr || dst == nullptr) return invalid_argument("cast: null pointer");
  return dispatch_numeric(from, [&](auto from_tag) {
    return dispatch_numeric(to, [&](auto to_tag) {
      using From = decltype(from_tag);
      using To = decltype(to_tag);
      cast_kernel<From, To><<<grid_for(n, kThreadsPerBlock), kThreadsPerBlock, 0, stream>>>(static_cast<const From*>(src),
                                                                                         static_cast<To*>(dst), n);
      return check_launch("cast_kernel");
    });
  });
}

}  // namespace kiln::cuda
