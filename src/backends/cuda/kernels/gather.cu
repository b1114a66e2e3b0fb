// Gather along one axis (an embedding lookup is axis 0 of a [vocab, hidden] table). Each thread
// moves one unit of the inner run; the unit is 16 bytes when the run and the pointers allow.
#include "backends/cuda/kernels/device_common.cuh"
#include "backends/cuda/kernels/tensor_ops.h"

namespace kiln::cuda {
namespace {

constexpr int kThreadsPerBlock = 256;

template <class Unit, class Index>
__global__ void gather_kernel(const Unit* __restrict__ data, const Index* __restrict__ indices, Unit* __restrict__ out,
                              int64_t n, int64_t axis_dim, int64_t inner_units, int64_t count) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    const int64_t unit = i % inner_units;
    const int64_t t = i / inner_units;
    const int64_t j = t % count, o = t / count;
    int64_t index = static_cast<int64_t>(indices[j]);
    if (index < 0) index += axis_dim;
    if (index < 0 || index >= axis_dim) {
      out[i] = Unit{};
    } else {
      out[i] = data[(o * axis_dim + index) * inner_units + unit];
    }
  }
}

template <class Unit>
Status launch(const GatherArgs& a, int64_t inner_units, cudaStream_t stream) {
  const int64_t n = a.outer * a.count * inner_units;
  const unsigned grid = grid_for(n, kThreadsPerBlock);
  if (a.index_dtype == DType::kInt64) {
    gather_kernel<Unit, int64_t><<<grid, kThreadsPerBlock, 0, stream>>>(static_cast<const Unit*>(a.data), static_cast<const int64_t*>(a.indices),
                                                                     static_cast<Unit*>(a.out), n, a.axis_dim, inner_units, a.count);
  } else {
    gather_kernel<Unit, int32_t><<<grid, kThreadsPerBlock, 0, stream>>>(static_cast<const Unit*>(a.data), static_cast<const int32_t*>(a.indices),
                                                                     static_cast<Unit*>(a.out), n, a.axis_dim, inner_units, a.count);
  }
  return check_launch("gather_kernel");
}

bool aligned(const void* p, size_t bytes) { return reinterpret_cast<uintptr_t>(p) % bytes == 0; }

}  // namespace

Status gather(size_t element_bytes, const GatherArgs& a, cudaStream_t stream) {
  if (a.index_dtype != DType::kInt64 && a.index_dtype != DType::kInt32) {
    return unimplemented("gather: indices must be int64 or int32, not " + std::string(dtype_name(a.index_dtype)));
  }
  if (a.outer < 0 || a.axis_dim < 0 || a.inner < 0 || a.count < 0) return invalid_argument("gather: negative size");
  if (a.outer == 0 || a.inner == 0 || a.count == 0) return Status::ok_status();
  if (a.axis_dim == 0) return invalid_argument("gather: gathering from an empty axis");
  if (a.data == nullptr || a.indices == nullptr || a.out == nullptr) return invalid_argument("gather: null pointer");
  const int64_t run_bytes = a.inner * static_cast<int64_t>(element_bytes);
  for (int64_t unit : {16, 8, 4, 2, 1}) {
    if (run_bytes % unit != 0 || !aligned(a.data, static_cast<size_t>(unit)) || !aligned(a.out, static_cast<size_t>(unit))) continue;
    const int64_t units = run_bytes / unit;
    switch (unit) {
      case 16: return launch<uint4>(a, units, stream);
      case 8: return launch<uint2>(a, units, stream);
      case 4: return launch<uint32_t>(a, units, stream);
      case 2: return launch<uint16_t>(a, units, stream);
      default: return launch<uint8_t>(a, units, stream);
    }
  }
  return internal_error("gather: no unit size fits");
}

}  // namespace kiln::cuda
