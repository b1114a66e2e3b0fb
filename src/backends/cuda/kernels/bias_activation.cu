// The epilogue the vendor libraries do not fuse: per-channel bias, residual and any UnaryOp.
#include <climits>
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
// 16-byte aligned): 16-byte vectors, so a pass over an FFN's [tokens, 4096] product runs at
// memory bandwidth; the channel index is computed once per vector (32-bit where it fits)
// instead of a 64-bit division per element. Each thread keeps kVectorsPerThread loads in
// flight before computing: with one, an SM's 2048 threads hold 32 KB of reads in flight, about
// what HBM's latency-bandwidth product needs per SM, so latency showed.
template <class T>
constexpr int kVectorElems = static_cast<int>(sizeof(uint4) / sizeof(T));
constexpr int kVectorsPerThread = 2;

template <UnaryOp Op, class T>
__global__ void bias_activation_vector_kernel(const T* __restrict__ x, const T* __restrict__ bias,
                                              const T* __restrict__ z, T* __restrict__ y, int64_t vectors,
                                              int64_t channels, UnaryParams params) {
  constexpr int kElems = kVectorElems<T>;
  const int64_t step = static_cast<int64_t>(blockDim.x);
  const int64_t stride = static_cast<int64_t>(gridDim.x) * step * kVectorsPerThread;
  const bool narrow = vectors * kElems <= INT32_MAX;
  for (int64_t v0 = static_cast<int64_t>(blockIdx.x) * step * kVectorsPerThread + threadIdx.x; v0 < vectors; v0 += stride) {
    uint4 xv[kVectorsPerThread], bv[kVectorsPerThread], zv[kVectorsPerThread];
#pragma unroll
    for (int u = 0; u < kVectorsPerThread; ++u) {
      const int64_t v = v0 + u * step;
      if (v >= vectors) break;
      xv[u] = __ldg(reinterpret_cast<const uint4*>(x) + v);
      if (bias != nullptr) {
        const int64_t i = v * kElems;
        const int64_t c = narrow ? static_cast<int64_t>(static_cast<uint32_t>(i) % static_cast<uint32_t>(channels)) : i % channels;
        bv[u] = __ldg(reinterpret_cast<const uint4*>(bias + c));
      }
      if (z != nullptr) zv[u] = __ldg(reinterpret_cast<const uint4*>(z) + v);
    }
#pragma unroll
    for (int u = 0; u < kVectorsPerThread; ++u) {
      const int64_t v = v0 + u * step;
      if (v >= vectors) break;
      const T* xe = reinterpret_cast<const T*>(&xv[u]);
      const T* be = reinterpret_cast<const T*>(&bv[u]);
      const T* ze = reinterpret_cast<const T*>(&zv[u]);
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
        const unsigned blocks = grid_for((vectors + kVectorsPerThread - 1) / kVectorsPerThread, kThreadsPerBlock);
        bias_activation_vector_kernel<decltype(op_tag)::value, T><<<blocks, kThreadsPerBlock, 0, stream>>>(
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
