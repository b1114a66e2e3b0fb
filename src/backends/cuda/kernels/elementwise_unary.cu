// Unary activations, one grid-stride kernel per op (the op is a template parameter so each
// instantiation is a straight-line loop).
#include "backends/cuda/kernels/device_common.cuh"
#include "backends/cuda/kernels/elementwise.h"

namespace kiln::cuda {
namespace {

constexpr int kThreadsPerBlock = 256;
constexpr float kInvSqrt2 = 0.70710678118654752440f;
constexpr float kSqrt2OverPi = 0.79788456080286535588f;
constexpr float kGeluTanhCubic = 0.044715f;
constexpr float kHardSwishSlope = 1.0f / 6.0f;
constexpr float kHardSwishOffset = 0.5f;

template <UnaryOp Op>
__device__ __forceinline__ float apply(float x) {
  if constexpr (Op == UnaryOp::kRelu) return fmaxf(x, 0.0f);
  if constexpr (Op == UnaryOp::kSigmoid) return 1.0f / (1.0f + expf(-x));
  if constexpr (Op == UnaryOp::kTanh) return tanhf(x);
  if constexpr (Op == UnaryOp::kGeluErf) return 0.5f * x * (1.0f + erff(x * kInvSqrt2));
  if constexpr (Op == UnaryOp::kGeluTanh) return 0.5f * x * (1.0f + tanhf(kSqrt2OverPi * (x + kGeluTanhCubic * x * x * x)));
  if constexpr (Op == UnaryOp::kHardSwish) return x * fminf(fmaxf(x * kHardSwishSlope + kHardSwishOffset, 0.0f), 1.0f);
  return x;
}

template <UnaryOp Op, class T>
__global__ void unary_kernel(const T* __restrict__ x, T* __restrict__ y, int64_t n) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    y[i] = from_float<T>(apply<Op>(to_float(x[i])));
  }
}

template <UnaryOp Op, class T>
Status launch(const void* x, void* y, int64_t n, cudaStream_t stream) {
  unary_kernel<Op, T><<<grid_for(n, kThreadsPerBlock), kThreadsPerBlock, 0, stream>>>(static_cast<const T*>(x), static_cast<T*>(y), n);
  return check_launch("unary_kernel");
}

template <class T>
Status launch_op(UnaryOp op, const void* x, void* y, int64_t n, cudaStream_t stream) {
  switch (op) {
    case UnaryOp::kRelu: return launch<UnaryOp::kRelu, T>(x, y, n, stream);
    case UnaryOp::kSigmoid: return launch<UnaryOp::kSigmoid, T>(x, y, n, stream);
    case UnaryOp::kTanh: return launch<UnaryOp::kTanh, T>(x, y, n, stream);
    case UnaryOp::kGeluErf: return launch<UnaryOp::kGeluErf, T>(x, y, n, stream);
    case UnaryOp::kGeluTanh: return launch<UnaryOp::kGeluTanh, T>(x, y, n, stream);
    case UnaryOp::kHardSwish: return launch<UnaryOp::kHardSwish, T>(x, y, n, stream);
  }
  return invalid_argument("unary_elementwise: unknown UnaryOp " + std::to_string(static_cast<int>(op)));
}

}  // namespace

Status unary_elementwise(UnaryOp op, DType dtype, const void* x, void* y, int64_t n, cudaStream_t stream) {
  if (n < 0) return invalid_argument("unary_elementwise: negative element count " + std::to_string(n));
  if (n == 0) return Status::ok_status();
  return dispatch_float_storage("unary_elementwise", dtype, [&](auto tag) {
    return launch_op<decltype(tag)>(op, x, y, n, stream);
  });
}

}  // namespace kiln::cuda
