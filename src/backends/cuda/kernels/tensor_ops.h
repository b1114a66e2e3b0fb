// Data-movement kernels that do not care about the element type beyond its size: strided copies
// (Transpose, Slice, Concat, Split), Gather, Where; plus Cast between the numeric types.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "kiln/dtype.h"
#include "kiln/status.h"

namespace kiln::cuda {

inline constexpr int kMaxCopyRank = 8;

// dst[dst_offset + sum_d c_d * dst_strides[d]] = src[src_offset + sum_d c_d * src_strides[d]] for
// every coordinate c of `dims`. Offsets and strides are in elements and may be negative (a Slice
// with a negative step). Adjacent axes that are contiguous on both sides are merged and the
// innermost run is moved in 16-byte units where alignment allows.
struct StridedCopy {
  int rank = 0;
  int64_t dims[kMaxCopyRank] = {};
  int64_t src_strides[kMaxCopyRank] = {};
  int64_t dst_strides[kMaxCopyRank] = {};
  int64_t src_offset = 0;
  int64_t dst_offset = 0;
};
Status strided_copy(size_t element_bytes, const void* src, void* dst, const StridedCopy& copy, cudaStream_t stream);

// out[o, j, i] = data[o, indices[j], i] over data [outer, axis_dim, inner] and `count` indices
// (int64 or int32). Negative indices count from the end. An index outside [-axis_dim, axis_dim)
// yields zeros: execute() may not read device memory back to report it.
struct GatherArgs {
  const void* data = nullptr;
  const void* indices = nullptr;
  void* out = nullptr;
  DType index_dtype = DType::kInt64;
  int64_t outer = 1;
  int64_t axis_dim = 0;
  int64_t inner = 1;
  int64_t count = 0;
};
Status gather(size_t element_bytes, const GatherArgs& args, cudaStream_t stream);

// out = cond ? x : y with numpy broadcasting; cond is bool (one byte). Shapes are given as dims
// of the output and broadcast element strides (0 along broadcast axes) of each input.
struct WhereArgs {
  const void* cond = nullptr;
  const void* x = nullptr;
  const void* y = nullptr;
  void* out = nullptr;
  int rank = 0;
  int64_t dims[kMaxCopyRank] = {};
  int64_t cond_strides[kMaxCopyRank] = {};
  int64_t x_strides[kMaxCopyRank] = {};
  int64_t y_strides[kMaxCopyRank] = {};
};
Status where(size_t element_bytes, const WhereArgs& args, cudaStream_t stream);

// dst[i] = (to)src[i] for float32, float16, bfloat16, int64, int32 and bool. Float to integer
// truncates toward zero; to bool is (x != 0).
bool cast_supports(DType from, DType to);
Status cast(DType from, DType to, const void* src, void* dst, int64_t n, cudaStream_t stream);

}  // namespace kiln::cuda
