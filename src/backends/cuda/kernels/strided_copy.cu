// Strided copy by element size. The host side merges axes and widens the unit so that the
// common cases (a Transpose that keeps the last axis, a Concat along an outer axis) move 16
// bytes per thread.
#include "backends/cuda/kernels/device_common.cuh"
#include "backends/cuda/kernels/tensor_ops.h"

namespace kiln::cuda {
namespace {

constexpr int kThreadsPerBlock = 256;

template <class Unit>
__global__ void strided_copy_kernel(const Unit* __restrict__ src, Unit* __restrict__ dst, int64_t n, StridedCopy c) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    int64_t rest = i, s = c.src_offset, d = c.dst_offset;
    for (int axis = c.rank - 1; axis >= 0; --axis) {
      const int64_t coord = rest % c.dims[axis];
      rest /= c.dims[axis];
      s += coord * c.src_strides[axis];
      d += coord * c.dst_strides[axis];
    }
    dst[d] = src[s];
  }
}

// Drops size-1 axes and merges an axis into its inner neighbour when both sides are contiguous
// across the pair.
StridedCopy simplify(const StridedCopy& in) {
  StridedCopy out;
  out.src_offset = in.src_offset;
  out.dst_offset = in.dst_offset;
  for (int axis = 0; axis < in.rank; ++axis) {
    if (in.dims[axis] == 1) continue;
    if (out.rank > 0) {
      const int last = out.rank - 1;
      if (out.src_strides[last] == in.src_strides[axis] * in.dims[axis] &&
          out.dst_strides[last] == in.dst_strides[axis] * in.dims[axis]) {
        out.dims[last] *= in.dims[axis];
        out.src_strides[last] = in.src_strides[axis];
        out.dst_strides[last] = in.dst_strides[axis];
        continue;
      }
    }
    out.dims[out.rank] = in.dims[axis];
    out.src_strides[out.rank] = in.src_strides[axis];
    out.dst_strides[out.rank] = in.dst_strides[axis];
    ++out.rank;
  }
  if (out.rank == 0) {
    out.rank = 1;
    out.dims[0] = 1;
    out.src_strides[0] = out.dst_strides[0] = 1;
  }
  return out;
}

// Whether `factor` elements can be moved as one unit: the inner axis is contiguous on both
// sides, everything else (and the pointers) stays a multiple of the unit.
bool widen(StridedCopy& c, int64_t factor, const void* src, const void* dst, size_t unit_bytes) {
  const int last = c.rank - 1;
  if (c.src_strides[last] != 1 || c.dst_strides[last] != 1 || c.dims[last] % factor != 0) return false;
  if (c.src_offset % factor != 0 || c.dst_offset % factor != 0) return false;
  if (reinterpret_cast<uintptr_t>(src) % unit_bytes != 0 || reinterpret_cast<uintptr_t>(dst) % unit_bytes != 0) return false;
  for (int axis = 0; axis < last; ++axis) {
    if (c.src_strides[axis] % factor != 0 || c.dst_strides[axis] % factor != 0) return false;
  }
  c.dims[last] /= factor;
  for (int axis = 0; axis < last; ++axis) {
    c.src_strides[axis] /= factor;
    c.dst_strides[axis] /= factor;
  }
  c.src_offset /= factor;
  c.dst_offset /= factor;
  return true;
}

template <class Unit>
Status launch(const void* src, void* dst, const StridedCopy& c, cudaStream_t stream) {
  int64_t n = 1;
  for (int axis = 0; axis < c.rank; ++axis) n *= c.dims[axis];
  strided_copy_kernel<Unit><<<grid_for(n, kThreadsPerBlock), kThreadsPerBlock, 0, stream>>>(static_cast<const Unit*>(src),
                                                                                        static_cast<Unit*>(dst), n, c);
  return check_launch("strided_copy_kernel");
}

}  // namespace

Status strided_copy(size_t element_bytes, const void* src, void* dst, const StridedCopy& copy, cudaStream_t stream) {
  if (copy.rank < 0 || copy.rank > kMaxCopyRank) return unimplemented("strided_copy: rank above " + std::to_string(kMaxCopyRank));
  for (int axis = 0; axis < copy.rank; ++axis) {
    if (copy.dims[axis] < 0) return invalid_argument("strided_copy: negative dim");
    if (copy.dims[axis] == 0) return Status::ok_status();
  }
  if (src == nullptr || dst == nullptr) return invalid_argument("strided_copy: null pointer");
  StridedCopy c = simplify(copy);
  size_t unit = element_bytes;
  for (size_t wide : {size_t{16}, size_t{8}, size_t{4}}) {
    if (wide > element_bytes && wide % element_bytes == 0 && widen(c, static_cast<int64_t>(wide / element_bytes), src, dst, wide)) {
      unit = wide;
      break;
    }
  }
  switch (unit) {
    case 1: return launch<uint8_t>(src, dst, c, stream);
    case 2: return launch<uint16_t>(src, dst, c, stream);
    case 4: return launch<uint32_t>(src, dst, c, stream);
    case 8: return launch<uint2>(src, dst, c, stream);
    case 16: return launch<uint4>(src, dst, c, stream);
    default: return unimplemented("strided_copy: element size " + std::to_string(element_bytes));
  }
}

}  // namespace kiln::cuda
