// The epilogue the vendor libraries do not fuse: per-channel bias, residual and any UnaryOp.
#include <cstdint>
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

// The common matrix case (inner == 1, rows of `channels` contiguous values, every pointer
// 16-byte aligned): one 16-byte vector per thread and step, so a pass over an FFN's
// [tokens, 4096] product runs at memory bandwidth; the channel index is computed once per
// vector instead of a 64-bit division per element.
template <class T>
constexpr int kVectorElems = static_cast<int>(sizeof(uint4) / sizeof(T));

template <UnaryOp Op, class T>
__global__ void bias_activation_vector_kernel(const T* __restrict__ x, const T* __restrict__ bias,
                                              const T* __restrict__ z, T* __restrict__ y, int64_t vectors,
                                              int64_t channels, UnaryParams params) {
  constexpr int kElems = kVectorElems<T>;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t v = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; v < vectors; v += stride) {
    const int64_t i = v * kElems;
    uint4 xv = __ldg(reinterpret_cast<const uint4*>(x) + v);
    uint4 bv{}, zv{};
    if (bias != nullptr) bv = __ldg(reinterpret_cast<const uint4*>(bias + i % channels));
    if (z != nullptr) zv = __ldg(reinterpret_cast<const uint4*>(z) + v);
    const T* xe = reinterpret_cast<const T*>(&xv);
    const T* be = reinterpret_cast<const T*>(&bv);
    const T* ze = reinterpret_cast<const T*>(&zv);
    uint4 out;
    T* oe = reinterpret_cast<T*>(&out);
#pragma unroll
    for (int e = 0; e < kElems; ++e) {
      float value = to_float(xe[e]);
      if (bias != nullptr) value += to_float(be[e]);
      if (z != nullptr) value += to_float(ze[e]);
      oe[e] = from_float<T>(apply_unary<Op>(value, params));
    }
    reinterpret_cast<uint4*>(y)[v] = out;
  }
}

bool aligned_to_vector(const void* p) { return p == nullptr || reinterpret_cast<uintptr_t>(p) % sizeof(uint4) == 0; }

template <class T>
bool vectorizable(const BiasActivationArgs& a) {
  constexpr int kElems = kVectorElems<T>;
  return a.inner == 1 && a.n % kElems == 0 && (a.bias == nullptr || a.channels % kElems == 0) && aligned_to_vector(a.x) &&
         aligned_to_vector(a.y) && aligned_to_vector(a.bias) && aligned_to_vector(a.z);
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
      if (vectorizable<T>(a)) {
        const int64_t vectors = a.n / kVectorElems<T>;
        bias_activation_vector_kernel<decltype(op_tag)::value, T><<<grid_for(vectors, kThreadsPerBlock), kThreadsPerBlock, 0, stream>>>(
            static_cast<const T*>(a.x), static_cast<const T*>(a.bias), static_cast<const T*>(a.z), static_cast<T*>(a.y),
            vectors, a.channels, a.params);
        return check_launch("bias_activation_vector_kernel");
      }
      bias_activation_kernel<decltype(op_tag)::value, T><<<grid_for(a.n, kThreadsPerBlock), kThreadsPerBlock, 0, stream>>>(
          static_cast<const T*>(a.x), static_cast<const T*>(a.bias), static_cast<const T*>(a.z), static_cast<T*>(a.y), a.n,
          a.channels, a.inner, a.params);
      return check_launch("bias_activation_kernel");
    });
  });
}

}  // namespace kiln::cuda
