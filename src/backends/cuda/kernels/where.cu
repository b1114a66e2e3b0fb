// Where with numpy broadcasting over three inputs; the element type only matters by its size.
#include "backends/cuda/kernels/device_common.cuh"
#include "backends/cuda/kernels/tensor_ops.h"

namespace kiln::cuda {
namespace {

constexpr int kThreadsPerBlock = 256;

template <class Unit>
__global__ void where_kernel(const uint8_t* __restrict__ cond, const Unit* __restrict__ x, const Unit* __restrict__ y,
                             Unit* __restrict__ out, int64_t n, WhereArgs g) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    int64_t rest = i, c = 0, xo = 0, yo = 0;
    for (int axis = g.rank - 1; axis >= 0; --axis) {
      const int64_t coord = rest % g.dims[axis];
      rest /= g.dims[axis];
      c += coord * g.cond_strides[axis];
      xo += coord * g.x_strides[axis];
      yo += coord * g.y_strides[axis];
    }
    out[i] = cond[c] != 0 ? x[xo] : y[yo];
  }
}

template <class Unit>
Status launch(const WhereArgs& a, int64_t n, cudaStream_t stream) {
  where_kernel<Unit><<<grid_for(n, kThreadsPerBlock), kThreadsPerBlock, 0, stream>>>(
      static_cast<const uint8_t*>(a.cond), static_cast<const Unit*>(a.x), static_cast<const Unit*>(a.y), static_cast<Unit*>(a.out), n, a);
  return check_launch("where_kernel");
}

}  // namespace

Status where(size_t element_bytes, const WhereArgs& a, cudaStream_t stream) {
  if (a.rank < 0 || a.rank > kMaxCopyRank) return unimplemented("where: rank above " + std::to_string(kMaxCopyRank));
  int64_t n = 1;
  for (int axis = 0; axis < a.rank; ++axis) {
    if (a.dims[axis] < 0) return invalid_argument("where: negative dim");
    n *= a.dims[axis];
  }
  if (n == 0) return Status::ok_status();
  if (a.cond == nullptr || a.x == nullptr || a.y == nullptr || a.out == nullptr) return invalid_argument("where: null pointer");
  switch (element_bytes) {
    case 1: return launch<uint8_t>(a, n, stream);
    case 2: return launch<uint16_t>(a, n, stream);
    case 4: return launch<uint32_t>(a, n, stream);
    case 8: return launch<uint2>(a, n, stream);
    default: return unimplemented("where: element size " + std::to_string(element_bytes));
  }
}

}  // namespace kiln::cuda
