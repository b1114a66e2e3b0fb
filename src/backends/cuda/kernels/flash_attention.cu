// Flash-style attention forward. One block of 4 warps owns 64 query rows of one (batch, head);
// it walks the keys in tiles of 64. Per tile each warp computes its 16 x 64 score tile with
// tensor cores (WMMA, FP32 accumulation) into shared memory, folds it into a running row max and
// row sum (online softmax), writes the probabilities back as 16-bit values and multiplies them
// with the V tile. The output accumulator stays in registers in a layout this file owns (lane
// pair per row), which is why the WMMA results pass through shared memory: WMMA's own fragment
// layout is unspecified, and the running rescale needs to know which row each value is in.
#include <mma.h>

#include <mutex>

#include "backends/cuda/kernels/attention.h"
#include "backends/cuda/kernels/device_common.cuh"

namespace kiln::cuda {
namespace {

namespace wmma = nvcuda::wmma;

constexpr int kWarps = 4;
constexpr int kThreads = kWarps * kWarpSize;
constexpr int kRowsPerWarp = 16;
constexpr int kBlockRows = kWarps * kRowsPerWarp;  // query rows per block
constexpr int kBlockKeys = 64;                     // keys per tile
constexpr int kMma = 16;                           // WMMA tile edge
constexpr int kHalfPad = 8;                        // 16 bytes of padding per 16-bit row (banks, WMMA ldm rule)
constexpr int kFloatPad = 4;                       // 16 bytes of padding per float row
constexpr int kVectorElems = 8;                    // 16-bit elements per 16-byte access
constexpr int kLanesPerRow = 2;

template <class T, int D>
struct Layout {
  static constexpr int kTileLd = D + kHalfPad;
  static constexpr int kScratchCols = D > kBlockKeys ? D : kBlockKeys;
  static constexpr int kScratchLd = kScratchCols + kFloatPad;
  static constexpr int kProbLd = kBlockKeys + kHalfPad;
  static constexpr size_t kTileBytes = sizeof(T) * kBlockRows * kTileLd;
  static constexpr size_t kScratchBytes = sizeof(float) * kRowsPerWarp * kScratchLd;
  static constexpr size_t kProbBytes = sizeof(T) * kRowsPerWarp * kProbLd;
  // Q, K and V tiles, then per warp a float scratch tile and a probability tile.
  static constexpr size_t kSharedBytes = 3 * kTileBytes + kWarps * (kScratchBytes + kProbBytes);
};

// Copies rows [row0, row0 + 64) of a [rows, D] matrix into a padded shared tile; rows past the
// end become zeros (their scores are masked, their values multiplied by zero probabilities).
template <class T, int D>
__device__ __forceinline__ void load_tile(const T* __restrict__ src, int64_t row0, int64_t rows, T* tile) {
  constexpr int kVectorsPerRow = D / kVectorElems;
  for (int i = static_cast<int>(threadIdx.x); i < kBlockRows * kVectorsPerRow; i += kThreads) {
    const int r = i / kVectorsPerRow, c = (i % kVectorsPerRow) * kVectorElems;
    uint4 value = make_uint4(0, 0, 0, 0);
    if (row0 + r < rows) value = *reinterpret_cast<const uint4*>(src + (row0 + r) * D + c);
    *reinterpret_cast<uint4*>(tile + r * Layout<T, D>::kTileLd + c) = value;
  }
}

template <class T, int D>
__global__ void __launch_bounds__(kThreads) flash_attention_kernel(AttentionArgs args) {
  using L = Layout<T, D>;
  constexpr int kDTiles = D / kMma;
  constexpr int kColsPerLane = D / kLanesPerRow;
  constexpr int kKeysPerLane = kBlockKeys / kLanesPerRow;
  extern __shared__ __align__(128) unsigned char shared[];
  T* q_tile = reinterpret_cast<T*>(shared);
  T* k_tile = reinterpret_cast<T*>(shared + L::kTileBytes);
  T* v_tile = reinterpret_cast<T*>(shared + 2 * L::kTileBytes);
  const int warp = static_cast<int>(threadIdx.x) / kWarpSize, lane = static_cast<int>(threadIdx.x) % kWarpSize;
  float* scratch = reinterpret_cast<float*>(shared + 3 * L::kTileBytes + warp * L::kScratchBytes);
  T* probs = reinterpret_cast<T*>(shared + 3 * L::kTileBytes + kWarps * L::kScratchBytes + warp * L::kProbBytes);

  const int64_t b = blockIdx.z, h = blockIdx.y;
  const int64_t head = b * args.heads + h;
  const T* q = static_cast<const T*>(args.q) + head * args.seq_q * D;
  const T* k = static_cast<const T*>(args.k) + head * args.seq_k * D;
  const T* v = static_cast<const T*>(args.v) + head * args.seq_k * D;
  const T* mask = static_cast<const T*>(args.mask);
  const int64_t q0 = static_cast<int64_t>(blockIdx.x) * kBlockRows;

  load_tile<T, D>(q, q0, args.seq_q, q_tile);
  __syncthreads();
  wmma::fragment<wmma::matrix_a, kMma, kMma, kMma, T, wmma::row_major> q_frag[kDTiles];
#pragma unroll
  for (int d = 0; d < kDTiles; ++d) wmma::load_matrix_sync(q_frag[d], q_tile + warp * kRowsPerWarp * L::kTileLd + d * kMma, L::kTileLd);

  // This lane's share of the output: row `row` of the warp's 16, columns [col0, col0 + D/2).
  const int row = lane / kLanesPerRow, half = lane % kLanesPerRow;
  const int64_t q_index = q0 + warp * kRowsPerWarp + row;
  const int col0 = half * kColsPerLane, key0 = half * kKeysPerLane;
  float acc[kColsPerLane];
#pragma unroll
  for (int j = 0; j < kColsPerLane; ++j) acc[j] = 0.0f;
  float row_max = -INFINITY, row_sum = 0.0f;
  const T* mask_row = nullptr;
  if (mask != nullptr) {
    const int64_t q_clamped = q_index < args.seq_q ? q_index : args.seq_q - 1;
    mask_row = mask + b * args.mask_strides[0] + h * args.mask_strides[1] + q_clamped * args.mask_strides[2];
  }

  for (int64_t kv0 = 0; kv0 < args.seq_k; kv0 += kBlockKeys) {
    __syncthreads();  // every warp is done with the previous K/V tiles
    load_tile<T, D>(k, kv0, args.seq_k, k_tile);
    load_tile<T, D>(v, kv0, args.seq_k, v_tile);
    __syncthreads();

    // Scores S = Q K^T for this warp's 16 rows and the tile's 64 keys.
#pragma unroll
    for (int n = 0; n < kBlockKeys / kMma; ++n) {
      wmma::fragment<wmma::accumulator, kMma, kMma, kMma, float> s_frag;
      wmma::fill_fragment(s_frag, 0.0f);
#pragma unroll
      for (int d = 0; d < kDTiles; ++d) {
        wmma::fragment<wmma::matrix_b, kMma, kMma, kMma, T, wmma::col_major> k_frag;
        wmma::load_matrix_sync(k_frag, k_tile + n * kMma * L::kTileLd + d * kMma, L::kTileLd);
        wmma::mma_sync(s_frag, q_frag[d], k_frag, s_frag);
      }
      wmma::store_matrix_sync(scratch + n * kMma, s_frag, L::kScratchLd, wmma::mem_row_major);
    }
    __syncwarp();

    // Online softmax over this lane's 32 keys; the lane pair shares the row statistics.
    float s[kKeysPerLane];
    float tile_max = -INFINITY;
#pragma unroll
    for (int j = 0; j < kKeysPerLane; ++j) {
      const int64_t key = kv0 + key0 + j;
      float value = -INFINITY;
      if (key < args.seq_k) {
        value = scratch[row * L::kScratchLd + key0 + j] * args.scale;
        if (mask_row != nullptr) value += to_float(mask_row[key * args.mask_strides[3]]);
      }
      s[j] = value;
      tile_max = fmaxf(tile_max, value);
    }
    tile_max = fmaxf(tile_max, __shfl_xor_sync(kFullWarpMask, tile_max, 1));
    const float new_max = fmaxf(row_max, tile_max);
    // A row whose keys are all masked so far keeps max -inf; exponentiate against 0 so that
    // exp(-inf - -inf) never produces NaN.
    const float shift = new_max == -INFINITY ? 0.0f : new_max;
    const float rescale = expf(row_max - shift);
    float tile_sum = 0.0f;
#pragma unroll
    for (int j = 0; j < kKeysPerLane; ++j) {
      const float p = expf(s[j] - shift);
      tile_sum += p;
      probs[row * L::kProbLd + key0 + j] = from_float<T>(p);
    }
    tile_sum += __shfl_xor_sync(kFullWarpMask, tile_sum, 1);
    row_sum = row_sum * rescale + tile_sum;
    row_max = new_max;
#pragma unroll
    for (int j = 0; j < kColsPerLane; ++j) acc[j] *= rescale;
    __syncwarp();

    // P V for this tile into the scratch tile, then into the lane's accumulators.
#pragma unroll
    for (int d = 0; d < kDTiles; ++d) {
      wmma::fragment<wmma::accumulator, kMma, kMma, kMma, float> o_frag;
      wmma::fill_fragment(o_frag, 0.0f);
#pragma unroll
      for (int n = 0; n < kBlockKeys / kMma; ++n) {
        wmma::fragment<wmma::matrix_a, kMma, kMma, kMma, T, wmma::row_major> p_frag;
        wmma::fragment<wmma::matrix_b, kMma, kMma, kMma, T, wmma::row_major> v_frag;
        wmma::load_matrix_sync(p_frag, probs + n * kMma, L::kProbLd);
        wmma::load_matrix_sync(v_frag, v_tile + n * kMma * L::kTileLd + d * kMma, L::kTileLd);
        wmma::mma_sync(o_frag, p_frag, v_frag, o_frag);
      }
      wmma::store_matrix_sync(scratch + d * kMma, o_frag, L::kScratchLd, wmma::mem_row_major);
    }
    __syncwarp();
#pragma unroll
    for (int j = 0; j < kColsPerLane; ++j) acc[j] += scratch[row * L::kScratchLd + col0 + j];
    __syncwarp();
  }

  if (q_index >= args.seq_q) return;
  const float inv_sum = row_sum > 0.0f ? 1.0f / row_sum : 0.0f;
  T* out = static_cast<T*>(args.out) + (head * args.seq_q + q_index) * D + col0;
#pragma unroll
  for (int j = 0; j < kColsPerLane; j += kVectorElems) {
    alignas(16) T packed[kVectorElems];
#pragma unroll
    for (int e = 0; e < kVectorElems; ++e) packed[e] = from_float<T>(acc[j + e] * inv_sum);
    *reinterpret_cast<uint4*>(out + j) = *reinterpret_cast<const uint4*>(packed);
  }
}

template <class T, int D>
Status launch(const AttentionArgs& args, cudaStream_t stream) {
  using L = Layout<T, D>;
  // Raising the dynamic shared-memory limit is per kernel and process; once is enough, and
  // keeping it out of later launches keeps execute() free of anything but the launch itself.
  static std::once_flag raised;
  static cudaError_t raise_error = cudaSuccess;
  std::call_once(raised, [] {
    raise_error = cudaFuncSetAttribute(flash_attention_kernel<T, D>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                       static_cast<int>(L::kSharedBytes));
  });
  KILN_RETURN_IF_ERROR(cuda_status(raise_error, "cudaFuncSetAttribute(flash_attention_kernel)"));
  const dim3 grid(static_cast<unsigned>((args.seq_q + kBlockRows - 1) / kBlockRows), static_cast<unsigned>(args.heads),
                  static_cast<unsigned>(args.batch));
  flash_attention_kernel<T, D><<<grid, kThreads, L::kSharedBytes, stream>>>(args);
  return check_launch("flash_attention_kernel");
}

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

Status validate(const AttentionArgs& a) {
  constexpr int64_t kMaxGridYZ = 65535, kMaxGridX = 2147483647;
  if (a.q == nullptr || a.k == nullptr || a.v == nullptr || a.out == nullptr) {
    return invalid_argument("scaled_dot_product_attention: Q, K, V and the output must be non-null");
  }
  if (a.batch <= 0 || a.heads <= 0 || a.seq_q <= 0 || a.seq_k <= 0) {
    return invalid_argument("scaled_dot_product_attention: batch, heads, seq_q and seq_k must be positive");
  }
  if (!attention_supports_head_dim(a.head_dim)) {
    return unimplemented("scaled_dot_product_attention: head dim " + std::to_string(a.head_dim) + " has no kernel (64 or 128)");
  }
  if (a.batch > kMaxGridYZ || a.heads > kMaxGridYZ || (a.seq_q + kBlockRows - 1) / kBlockRows > kMaxGridX) {
    return invalid_argument("scaled_dot_product_attention: batch and heads must be at most 65535");
  }
  if (!aligned16(a.q) || !aligned16(a.k) || !aligned16(a.v) || !aligned16(a.out)) {
    return invalid_argument("scaled_dot_product_attention: Q, K, V and the output must be 16-byte aligned");
  }
  for (int64_t stride : a.mask_strides) {
    if (stride < 0) return invalid_argument("scaled_dot_product_attention: negative mask stride");
  }
  return Status::ok_status();
}

template <class T>
Status launch_for_head_dim(const AttentionArgs& args, cudaStream_t stream) {
  if (args.head_dim == 64) return launch<T, 64>(args, stream);
  return launch<T, 128>(args, stream);
}

}  // namespace

bool attention_supports_head_dim(int64_t head_dim) {
  for (int64_t d : kAttentionHeadDims) {
    if (d == head_dim) return true;
  }
  return false;
}

Status scaled_dot_product_attention(DType dtype, const AttentionArgs& args, cudaStream_t stream) {
  KILN_RETURN_IF_ERROR(validate(args));
  switch (dtype) {
    case DType::kFloat16: return launch_for_head_dim<__half>(args, stream);
    case DType::kBFloat16: return launch_for_head_dim<__nv_bfloat16>(args, stream);
    default:
      return unimplemented("scaled_dot_product_attention: float16 and bfloat16 only, not " + std::string(dtype_name(dtype)));
  }
}

}  // namespace kiln::cuda
