// Unary math and activations, one grid-stride kernel per op (the op is a template parameter so
// each instantiation is a straight-line loop).
#include <type_traits>

#include "backends/cuda/kernels/unary_math.cuh"

namespace kiln::cuda {
namespace {

constexpr int kThreadsPerBlock = 256;

template <UnaryOp Op, class T>
__global__ void unary_kernel(const T* __restrict__ x, T* __restrict__ y, int64_t n, UnaryParams params) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    y[i] = from_float<T>(apply_unary<Op>(to_float(x[i]), params));
  }
}

}  // namespace

Status unary_elementwise(UnaryOp op, DType dtype, const void* x, void* y, int64_t n, cudaStream_t stream, UnaryParams params) {
  if (n < 0) return invalid_argument("unary_elementwise: negative element count " + std::to_string(n));
  if (n == 0) return Status::ok_status();
  return dispatch_float_storage("unary_elementwise", dtype, [&](auto tag) {
    using T = decltype(tag);
    return dispatch_unary(op, [&](auto op_tag) {
      unary_kernel<decltype(op_tag)::value, T><<<grid_for(n, kThreadsPerBlock), kThreadsPerBlock, 0, stream>>>(
          static_cast<const T*>(x), static_cast<T*>(y), n, params);
      return check_launch("unary_kernel");
    });
  });
}

}  // namespace kiln::cuda
