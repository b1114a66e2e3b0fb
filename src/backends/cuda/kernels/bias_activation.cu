// The epilogue the vendor libraries do not fuse: per-channel bias, residual and any UnaryOp.
#include <type_traits>

#include "backends/cuda/kernels/unary_math.cuh"

namespace kiln::cuda {
namespace {

constexpr int kThreadsPerBlock = 256;

template <UnaryOp Op, class T>
__global__ void bias_activation_kernel(const T* __restrict__ x, const T* __restrict__ bias, const T* __restrict__ z,
                                       T* __restrict__ y, int64_t n, int64_t channels, int64_t inner, UnaryParams params) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    float v = to_float(x[i]);
    if (bias != nullptr) v += to_float(bias[(i / inner) % channels]);
    if (z != nullptr) v += to_float(z[i]);
    y[i] = from_float<T>(apply_unary<Op>(v, params));
  }
}

}  // namespace

Status bias_activation(DType dtype, const BiasActivationArgs& a, cudaStream_t stream) {
  if (a.n < 0 || a.channels <= 0 || a.inner <= 0) {
    return invalid_argument("bias_activation: n must be non-negative, channels and inner positive");
  }
  if (a.x == nullptr || a.y == nullptr) return invalid_argument("bias_activation: x and y must be non-null");
  if (a.n == 0) return Status::ok_status();
  return dispatch_float_storage("bias_activation", dtype, [&](auto tag) {
    using T = decltype(tag);
    return dispatch_unary(a.op, [&](auto op_tag) {
      bias_activation_kernel<decltype(op_tag)::value, T><<<grid_for(a.n, kThreadsPerBlock), kThreadsPerBlock, 0, stream>>>(
          static_cast<const T*>(a.x), static_cast<const T*>(a.bias), static_cast<const T*>(a.z), static_cast<T*>(a.y), a.n,
          a.channels, a.inner, a.params);
      return check_launch("bias_activation_kernel");
    });
  });
}

}  // namespace kiln::cuda
