// Binary arithmetic with numpy broadcasting. Each output index is decomposed over the output
// dims and mapped through per-input strides (0 along broadcast dims); same-shape inputs take a
// flat path without the decomposition.
#include "backends/cuda/kernels/device_common.cuh"
#include "backends/cuda/kernels/elementwise.h"
#include "core/broadcast.h"

namespace kiln::cuda {
namespace {

constexpr int kThreadsPerBlock = 256;

// Passed by value to the kernel: dims of the output and element strides of both inputs.
struct BroadcastGeometry {
  int rank = 0;
  int64_t out_dims[kMaxBroadcastRank] = {};
  int64_t a_strides[kMaxBroadcastRank] = {};
  int64_t b_strides[kMaxBroadcastRank] = {};
};

template <BinaryOp Op>
__device__ __forceinline__ float apply(float a, float b) {
  if constexpr (Op == BinaryOp::kAdd) return a + b;
  if constexpr (Op == BinaryOp::kSub) return a - b;
  if constexpr (Op == BinaryOp::kMul) return a * b;
  if constexpr (Op == BinaryOp::kDiv) return a / b;
  if constexpr (Op == BinaryOp::kPow) return powf(a, b);
  return a;
}

template <BinaryOp Op, class T>
__global__ void binary_same_shape_kernel(const T* __restrict__ a, const T* __restrict__ b, T* __restrict__ out, int64_t n) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    out[i] = from_float<T>(apply<Op>(to_float(a[i]), to_float(b[i])));
  }
}

template <BinaryOp Op, class T>
__global__ void binary_broadcast_kernel(const T* __restrict__ a, const T* __restrict__ b, T* __restrict__ out, int64_t n,
                                        BroadcastGeometry g) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    int64_t rest = i, a_off = 0, b_off = 0;
    for (int d = g.rank - 1; d >= 0; --d) {
      const int64_t coord = rest % g.out_dims[d];
      rest /= g.out_dims[d];
      a_off += coord * g.a_strides[d];
      b_off += coord * g.b_strides[d];
    }
    out[i] = from_float<T>(apply<Op>(to_float(a[a_off]), to_float(b[b_off])));
  }
}

template <BinaryOp Op, class T>
Status launch(const T* a, const T* b, T* out, int64_t n, const BroadcastGeometry* g, cudaStream_t stream) {
  const unsigned grid = grid_for(n, kThreadsPerBlock);
  if (g == nullptr) {
    binary_same_shape_kernel<Op, T><<<grid, kThreadsPerBlock, 0, stream>>>(a, b, out, n);
  } else {
    binary_broadcast_kernel<Op, T><<<grid, kThreadsPerBlock, 0, stream>>>(a, b, out, n, *g);
  }
  return check_launch("binary_kernel");
}

template <class T>
Status launch_op(BinaryOp op, const T* a, const T* b, T* out, int64_t n, const BroadcastGeometry* g, cudaStream_t stream) {
  switch (op) {
    case BinaryOp::kAdd: return launch<BinaryOp::kAdd>(a, b, out, n, g, stream);
    case BinaryOp::kSub: return launch<BinaryOp::kSub>(a, b, out, n, g, stream);
    case BinaryOp::kMul: return launch<BinaryOp::kMul>(a, b, out, n, g, stream);
    case BinaryOp::kDiv: return launch<BinaryOp::kDiv>(a, b, out, n, g, stream);
    case BinaryOp::kPow: return launch<BinaryOp::kPow>(a, b, out, n, g, stream);
  }
  return invalid_argument("binary_broadcast: unknown BinaryOp " + std::to_string(static_cast<int>(op)));
}

}  // namespace

Status binary_broadcast(BinaryOp op, DType dtype, const void* a, const Shape& a_shape, const void* b,
                        const Shape& b_shape, void* out, const Shape& out_shape, cudaStream_t stream) {
  KILN_ASSIGN_OR_RETURN(Shape expected, broadcast_shapes(a_shape, b_shape));
  if (!(expected == out_shape)) {
    return invalid_argument("binary_broadcast: inputs " + a_shape.to_string() + " and " + b_shape.to_string() +
                            " broadcast to " + expected.to_string() + ", but the output is " + out_shape.to_string());
  }
  if (static_cast<int>(out_shape.rank()) > kMaxBroadcastRank) {
    return unimplemented("binary_broadcast: rank " + std::to_string(out_shape.rank()) + " exceeds the supported " +
                         std::to_string(kMaxBroadcastRank));
  }
  const int64_t n = out_shape.numel();
  if (n == 0) return Status::ok_status();

  BroadcastGeometry geometry;
  const bool same_shape = a_shape == out_shape && b_shape == out_shape;
  if (!same_shape) {
    const std::vector<int64_t> a_strides = broadcast_strides(a_shape, out_shape);
    const std::vector<int64_t> b_strides = broadcast_strides(b_shape, out_shape);
    geometry.rank = static_cast<int>(out_shape.rank());
    for (int d = 0; d < geometry.rank; ++d) {
      geometry.out_dims[d] = out_shape[static_cast<size_t>(d)];
      geometry.a_strides[d] = a_strides[static_cast<size_t>(d)];
      geometry.b_strides[d] = b_strides[static_cast<size_t>(d)];
    }
  }
  return dispatch_float_storage("binary_broadcast", dtype, [&](auto tag) {
    using T = decltype(tag);
    return launch_op<T>(op, static_cast<const T*>(a), static_cast<const T*>(b), static_cast<T*>(out), n,
                        same_shape ? nullptr : &geometry, stream);
  });
}

}  // namespace kiln::cuda
