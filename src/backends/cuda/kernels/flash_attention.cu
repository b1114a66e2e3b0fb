// Flash-style attention forward on tensor cores (mma.sync m16n8k16, FP32 accumulation). One
// block of 4 warps owns 64 query rows of one (batch, head); each warp owns 16 of them and walks
// the keys in tiles of 64. The score tile, the running row max / row sum (online softmax, base-2
// exponentials) and the output accumulator all stay in registers: the accumulator layout of
// m16n8k16 (lane = 4 * row + column pair) is the A-operand layout of the next product, so the
// probabilities feed P V without leaving registers. K is staged in shared memory row-major, V
// transposed, so every operand fragment is one 32-bit shared load.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <type_traits>

#include "backends/cuda/kernels/attention.h"
#include "backends/cuda/kernels/device_common.cuh"

namespace kiln::cuda {
namespace {

constexpr int kWarps = 4;
constexpr int kThreads = kWarps * kWarpSize;
constexpr int kRowsPerWarp = 16;
constexpr int kBlockRows = kWarps * kRowsPerWarp;  // query rows per block
constexpr int kBlockKeys = 64;                     // keys per tile
constexpr int kKeyTiles = kBlockKeys / 8;          // n8 tiles of the score tile
constexpr int kPad = 8;                            // 16 bytes per shared row: conflict-free fragment loads
constexpr int kVectorElems = 8;                    // 16-bit elements per 16-byte access
constexpr float kLog2e = 1.4426950408889634f;

template <class T>
__device__ __forceinline__ uint32_t pack2(float lo, float hi) {
  if constexpr (std::is_same_v<T, __half>) {
    const __half2 v = __floats2half2_rn(lo, hi);
    return *reinterpret_cast<const uint32_t*>(&v);
  } else {
    const __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<const uint32_t*>(&v);
  }
}

// d += a * b for one 16x8x16 tile; a: 4 packed pairs, b: 2 packed pairs.
template <class T>
__device__ __forceinline__ void mma_16x8x16(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  if constexpr (std::is_same_v<T, __half>) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  } else {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  }
}

template <class T>
__device__ __forceinline__ uint32_t load_pair(const T* p) {
  return *reinterpret_cast<const uint32_t*>(p);
}

// Rows [row0, row0 + 64) of a [rows, D] matrix into a padded row-major tile; rows past the end
// become zeros (their scores are masked to -inf, their values meet zero probabilities).
template <class T, int D>
__device__ __forceinline__ void load_rows(const T* __restrict__ src, int64_t row0, int64_t rows, T (*tile)[D + kPad]) {
  constexpr int kVectorsPerRow = D / kVectorElems;
  for (int i = static_cast<int>(threadIdx.x); i < kBlockKeys * kVectorsPerRow; i += kThreads) {
    const int r = i / kVectorsPerRow, c = (i % kVectorsPerRow) * kVectorElems;
    uint4 value = make_uint4(0, 0, 0, 0);
    if (row0 + r < rows) value = *reinterpret_cast<const uint4*>(src + (row0 + r) * D + c);
    *reinterpret_cast<uint4*>(&tile[r][c]) = value;
  }
}

// The same rows stored transposed: tile[d][r].
template <class T, int D>
__device__ __forceinline__ void load_rows_transposed(const T* __restrict__ src, int64_t row0, int64_t rows,
                                                     T (*tile)[kBlockKeys + kPad]) {
  constexpr int kVectorsPerRow = D / kVectorElems;
  for (int i = static_cast<int>(threadIdx.x); i < kBlockKeys * kVectorsPerRow; i += kThreads) {
    const int r = i % kBlockKeys, c = (i / kBlockKeys) * kVectorElems;
    uint4 value = make_uint4(0, 0, 0, 0);
    if (row0 + r < rows) value = *reinterpret_cast<const uint4*>(src + (row0 + r) * D + c);
    const T* elems = reinterpret_cast<const T*>(&value);
#pragma unroll
    for (int e = 0; e < kVectorElems; ++e) tile[c + e][r] = elems[e];
  }
}

template <class T, int D>
__global__ void __launch_bounds__(kThreads) flash_attention_kernel(AttentionArgs args) {
  constexpr int kDChunks = D / 16;  // k16 steps of Q K^T
  constexpr int kDTiles = D / 8;    // n8 tiles of the output
  __shared__ __align__(16) T k_tile[kBlockKeys][D + kPad];  // also stages the Q tile once
  __shared__ __align__(16) T vt_tile[D][kBlockKeys + kPad];

  const int warp = static_cast<int>(threadIdx.x) / kWarpSize, lane = static_cast<int>(threadIdx.x) % kWarpSize;
  const int g = lane / 4, t = lane % 4;  // fragment row group and column pair
  const int64_t b = blockIdx.z, h = blockIdx.y;
  const int64_t head = b * args.heads + h;
  const T* q = static_cast<const T*>(args.q) + head * args.seq_q * D;
  const T* k = static_cast<const T*>(args.k) + head * args.seq_k * D;
  const T* v = static_cast<const T*>(args.v) + head * args.seq_k * D;
  const int64_t q0 = static_cast<int64_t>(blockIdx.x) * kBlockRows;

  load_rows<T, D>(q, q0, args.seq_q, k_tile);
  __syncthreads();
  uint32_t q_frag[kDChunks][4];
  const int wr = warp * kRowsPerWarp;
#pragma unroll
  for (int c = 0; c < kDChunks; ++c) {
    q_frag[c][0] = load_pair(&k_tile[wr + g][c * 16 + 2 * t]);
    q_frag[c][1] = load_pair(&k_tile[wr + g + 8][c * 16 + 2 * t]);
    q_frag[c][2] = load_pair(&k_tile[wr + g][c * 16 + 2 * t + 8]);
    q_frag[c][3] = load_pair(&k_tile[wr + g + 8][c * 16 + 2 * t + 8]);
  }

  // This lane's two rows: g and g + 8 of the warp's 16.
  const int64_t row_index[2] = {q0 + wr + g, q0 + wr + g + 8};
  const T* mask_row[2] = {nullptr, nullptr};
  if (args.mask != nullptr) {
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      const int64_t clamped = row_index[r] < args.seq_q ? row_index[r] : args.seq_q - 1;
      mask_row[r] = static_cast<const T*>(args.mask) + b * args.mask_strides[0] + h * args.mask_strides[1] +
                    clamped * args.mask_strides[2];
    }
  }
  const float scale_log2 = args.scale * kLog2e;
  float acc[kDTiles][4];
#pragma unroll
  for (int n = 0; n < kDTiles; ++n) acc[n][0] = acc[n][1] = acc[n][2] = acc[n][3] = 0.0f;
  float row_max[2] = {-INFINITY, -INFINITY};
  float row_sum[2] = {0.0f, 0.0f};  // this lane's share; the quad's shares add up at the end

  for (int64_t kv0 = 0; kv0 < args.seq_k; kv0 += kBlockKeys) {
    __syncthreads();  // every warp is done with the previous tiles (and with the staged Q)
    load_rows<T, D>(k, kv0, args.seq_k, k_tile);
    load_rows_transposed<T, D>(v, kv0, args.seq_k, vt_tile);
    __syncthreads();

    float s[kKeyTiles][4];
#pragma unroll
    for (int n = 0; n < kKeyTiles; ++n) {
      s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.0f;
#pragma unroll
      for (int c = 0; c < kDChunks; ++c) {
        mma_16x8x16<T>(s[n], q_frag[c], load_pair(&k_tile[n * 8 + g][c * 16 + 2 * t]),
                       load_pair(&k_tile[n * 8 + g][c * 16 + 2 * t + 8]));
      }
    }

    // Scores in the base-2 domain, masked; element e of tile n is row (e < 2 ? g : g + 8),
    // key n * 8 + 2t + (e & 1).
    float tile_max[2] = {-INFINITY, -INFINITY};
#pragma unroll
    for (int n = 0; n < kKeyTiles; ++n) {
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int r = e / 2;
        const int64_t key = kv0 + n * 8 + 2 * t + (e & 1);
        float value = -INFINITY;
        if (key < args.seq_k) {
          value = s[n][e] * scale_log2;
          if (mask_row[r] != nullptr) value += to_float(mask_row[r][key * args.mask_strides[3]]) * kLog2e;
        }
        s[n][e] = value;
        tile_max[r] = fmaxf(tile_max[r], value);
      }
    }
    float rescale[2];
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      tile_max[r] = fmaxf(tile_max[r], __shfl_xor_sync(kFullWarpMask, tile_max[r], 1));
      tile_max[r] = fmaxf(tile_max[r], __shfl_xor_sync(kFullWarpMask, tile_max[r], 2));
      const float new_max = fmaxf(row_max[r], tile_max[r]);
      // Rows with every key so far masked keep max -inf: shift by 0 so no -inf - -inf.
      const float shift = new_max == -INFINITY ? 0.0f : new_max;
      rescale[r] = exp2f(row_max[r] - shift);
      row_max[r] = new_max;
      row_sum[r] *= rescale[r];
#pragma unroll
      for (int n = 0; n < kKeyTiles; ++n) {
        s[n][2 * r] = exp2f(s[n][2 * r] - shift);
        s[n][2 * r + 1] = exp2f(s[n][2 * r + 1] - shift);
        row_sum[r] += s[n][2 * r] + s[n][2 * r + 1];
      }
    }
#pragma unroll
    for (int n = 0; n < kDTiles; ++n) {
      acc[n][0] *= rescale[0];
      acc[n][1] *= rescale[0];
      acc[n][2] *= rescale[1];
      acc[n][3] *= rescale[1];
    }

    // O += P V: the probabilities of key tiles 2j and 2j+1 are the A operand of k16 step j.
#pragma unroll
    for (int j = 0; j < kBlockKeys / 16; ++j) {
      const uint32_t p_frag[4] = {pack2<T>(s[2 * j][0], s[2 * j][1]), pack2<T>(s[2 * j][2], s[2 * j][3]),
                                  pack2<T>(s[2 * j + 1][0], s[2 * j + 1][1]), pack2<T>(s[2 * j + 1][2], s[2 * j + 1][3])};
#pragma unroll
      for (int n = 0; n < kDTiles; ++n) {
        mma_16x8x16<T>(acc[n], p_frag, load_pair(&vt_tile[n * 8 + g][j * 16 + 2 * t]),
                       load_pair(&vt_tile[n * 8 + g][j * 16 + 2 * t + 8]));
      }
    }
  }

#pragma unroll
  for (int r = 0; r < 2; ++r) {
    row_sum[r] += __shfl_xor_sync(kFullWarpMask, row_sum[r], 1);
    row_sum[r] += __shfl_xor_sync(kFullWarpMask, row_sum[r], 2);
    if (row_index[r] >= args.seq_q) continue;
    const float inv_sum = row_sum[r] > 0.0f ? 1.0f / row_sum[r] : 0.0f;
    T* out = static_cast<T*>(args.out) + (head * args.seq_q + row_index[r]) * D + 2 * t;
#pragma unroll
    for (int n = 0; n < kDTiles; ++n) {
      *reinterpret_cast<uint32_t*>(out + n * 8) = pack2<T>(acc[n][2 * r] * inv_sum, acc[n][2 * r + 1] * inv_sum);
    }
  }
}

template <class T, int D>
Status launch(const AttentionArgs& args, cudaStream_t stream) {
  const dim3 grid(static_cast<unsigned>((args.seq_q + kBlockRows - 1) / kBlockRows), static_cast<unsigned>(args.heads),
                  static_cast<unsigned>(args.batch));
  flash_attention_kernel<T, D><<<grid, kThreads, 0, stream>>>(args);
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
