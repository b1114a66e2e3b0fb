// Flash-attention forward (FlashAttention-2 schedule) on tensor cores: mma.sync m16n8k16 with
// FP32 accumulation. One block owns 128 (or 64, see Geometry) query rows of one (batch, head)
// and walks the keys in tiles of 64:
//   - K and V tiles arrive by 16-byte cp.async into two shared stages: tile j + 1 is in flight
//     while tile j is computed; a padding mask row (one for all queries) rides along as a
//     third 128-byte tile, so its latency hides behind a whole tile of work too;
//   - each warp owns 16 or 32 query rows; their Q fragments are loaded once (ldmatrix) and stay
//     in registers; K fragments come by ldmatrix.x4, V fragments by ldmatrix.x4.trans (V stays
//     row-major in shared memory: the transpose happens in the load);
//   - shared rows are padded by 16 bytes, so the 8 row addresses of every 8x8 ldmatrix tile hit
//     8 different 16-byte bank groups (conflict-free), and the cp.async writes too;
//   - the scores never leave registers: scale * log2(e) is folded in once, the online softmax
//     uses exp2, row max / sum are reduced across the 4 lanes of a quad with shuffles, and the
//     accumulator layout of m16n8k16 is the A-operand layout of the next product, so the
//     probabilities, rounded to 16 bits in registers, feed P V directly;
//   - the output tile is staged in shared memory so it leaves in 16-byte stores.
// Keys past seq_k score -inf; rows whose keys are all -inf (fully masked) produce zeros where
// the unfused graph (and the reference backend) produces NaN.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <cfloat>
#include <climits>
#include <iterator>

#include "backends/cuda/kernels/attention.h"
#include "backends/cuda/kernels/device_common.cuh"
#include "backends/cuda/kernels/tensor_core.cuh"

namespace kiln::cuda {
namespace {

constexpr int kBlockKeys = 64;                // keys per tile
constexpr int kKeyTiles = kBlockKeys / 8;     // n8 tiles of a score tile
constexpr int kKeyChunks = kBlockKeys / 16;   // k16 steps of P V
constexpr int kChunkElems = 8;                // 16-bit elements per 16-byte copy
constexpr int kPad = kChunkElems;             // 16 bytes per shared row (see the top comment)
constexpr int kStages = 2;
constexpr size_t kElemBytes = 2;
constexpr float kLog2e = 1.4426950408889634f;

// Per head dim and query rows per block: warps per block and m16 row tiles per warp. 128 rows,
// D = 64: 4 warps x 32 rows, so every K / V fragment read from shared memory feeds two mmas
// (Q 32, scores 64, accumulator 64 registers; two blocks per SM). 128 rows, D = 128: 32 rows
// would need ~300 registers, so 8 warps x 16 rows. 64 rows (4 warps x 16): twice the blocks
// for grids too small to fill the GPU (batch 1: BERT's 16 heads x 3 blocks of 128 rows are 48
// blocks on 132 SMs); the builder times both (tactics 0 and 1).
template <int D, int kRows>
struct Geometry;
template <>
struct Geometry<64, 128> {
  static constexpr int kWarps = 4, kRowTiles = 2, kMinBlocksPerSm = 2;
};
template <>
struct Geometry<128, 128> {
  static constexpr int kWarps = 8, kRowTiles = 1, kMinBlocksPerSm = 1;
};
template <>
struct Geometry<64, 64> {
  static constexpr int kWarps = 4, kRowTiles = 1, kMinBlocksPerSm = 2;
};
template <>
struct Geometry<128, 64> {
  static constexpr int kWarps = 4, kRowTiles = 1, kMinBlocksPerSm = 2;
};

template <int D, int kRows>
struct Layout {
  static constexpr int kWarps = Geometry<D, kRows>::kWarps;
  static constexpr int kRowTiles = Geometry<D, kRows>::kRowTiles;
  static constexpr int kThreads = kWarps * kWarpSize;
  static constexpr int kWarpRows = 16 * kRowTiles;
  static constexpr int kBlockRows = kWarps * kWarpRows;
  static constexpr int kPitch = D + kPad;  // elements per shared row
  static constexpr int kQElems = kBlockRows * kPitch;
  static constexpr int kTileElems = kBlockKeys * kPitch;  // one K or V tile
  static constexpr int kMaskElems = kBlockKeys;  // one mask row segment per stage
  // Shared memory: the Q tile (later the output tile), then K0, V0, K1, V1, then mask 0, 1.
  static constexpr size_t kSharedBytes = (kQElems + kStages * 2 * kTileElems + kStages * kMaskElems) * kElemBytes;
  static constexpr int kDChunks = D / 16;  // k16 steps of Q K^T
  static constexpr int kDTiles = D / 8;    // n8 tiles of the output
  static_assert(kBlockRows == kRows, "warps x row tiles x 16 must be the block's query rows");
  static_assert(kSharedBytes <= 227 * 1024, "more shared memory than an sm_90 block can have");
};

// How the mask is read: none, one row for all queries of a (batch, head) (padding masks,
// mask_strides[2] == 0) staged in shared memory by cp.async (contiguous, 16-byte aligned rows
// whose length is a multiple of 8) or read from global memory, or a row per query.
enum class MaskKind { kNone, kStagedRow, kSharedRow, kPerRow };

// Rows [row0, row0 + kRows) of one (batch, head) slice (row stride `stride` elements) into a
// padded shared tile at `dst`; rows at or past `rows` become zeros, so their scores are finite
// (and then masked) and their values meet zero probabilities.
template <int D, int kRows, int kThreads, int kPitch, class T>
__device__ __forceinline__ void copy_tile(uint32_t dst, const T* __restrict__ src, int64_t stride, int row0, int rows) {
  constexpr int kChunksPerRow = D / kChunkElems;
  constexpr int kChunks = kRows * kChunksPerRow;
  static_assert(kChunks % kThreads == 0, "every thread copies the same number of chunks");
#pragma unroll
  for (int i = 0; i < kChunks / kThreads; ++i) {
    const int chunk = i * kThreads + static_cast<int>(threadIdx.x);
    const int r = chunk / kChunksPerRow, c = (chunk % kChunksPerRow) * kChunkElems;
    const bool valid = row0 + r < rows;
    // An invalid row reads nothing, but the address stays inside the slice (row 0 exists).
    const T* from = src + static_cast<int64_t>(valid ? row0 + r : 0) * stride + c;
    cp_async_16(dst + static_cast<uint32_t>((r * kPitch + c) * kElemBytes), from, valid);
  }
}

// Keys [key0, key0 + kBlockKeys) of a contiguous mask row into shared memory: the first 8
// threads copy one 16-byte chunk each; chunks at or past seq_k (a multiple of 8) become zeros.
template <class T>
__device__ __forceinline__ void copy_mask_tile(uint32_t dst, const T* __restrict__ row, int key0, int seq_k) {
  constexpr int kChunks = kBlockKeys / kChunkElems;
  const int chunk = static_cast<int>(threadIdx.x);
  if (chunk < kChunks) {
    const int key = key0 + chunk * kChunkElems;
    const bool valid = key < seq_k;
    cp_async_16(dst + static_cast<uint32_t>(chunk * kChunkElems * kElemBytes), row + (valid ? key : 0), valid);
  }
}

// A mask value in the scores' base-2 domain. -inf stays -inf (that key gets probability 0); a
// finite value whose product with log2(e) overflows (bfloat16's lowest, -3.4e38, is what
// exporters write for "masked") becomes -FLT_MAX instead, so a row masked that way everywhere
// gets what the unfused graph computes, a softmax over equal scores, not the zeros of -inf.
__device__ __forceinline__ float mask_to_log2(float m) {
  return fmaxf(m * kLog2e, m == -INFINITY ? -INFINITY : -FLT_MAX);
}

// Mask values (base 2) of keys `key` and `key + 1` of one mask row; keys past seq_k give 0
// here and -inf later. `pairs`: one aligned 32-bit load.
template <class T>
__device__ __forceinline__ float2 mask_pair(const T* row, int64_t key, int64_t stride, int64_t seq_k, bool pairs) {
  const auto* bits = reinterpret_cast<const uint16_t*>(row);
  float lo = 0.0f, hi = 0.0f;
  if (pairs && key + 1 < seq_k) {
    const uint32_t both = __ldg(reinterpret_cast<const uint32_t*>(bits + key));
    lo = bits_to_float<T>(static_cast<uint16_t>(both & 0xffffu));
    hi = bits_to_float<T>(static_cast<uint16_t>(both >> 16));
  } else {
    if (key < seq_k) lo = bits_to_float<T>(__ldg(bits + key * stride));
    if (key + 1 < seq_k) hi = bits_to_float<T>(__ldg(bits + (key + 1) * stride));
  }
  return make_float2(mask_to_log2(lo), mask_to_log2(hi));
}

template <class T, int D, int kRows>
__global__ void __launch_bounds__(Layout<D, kRows>::kThreads, Geometry<D, kRows>::kMinBlocksPerSm)
    flash_attention_kernel(AttentionArgs args) {
  using L = Layout<D, kRows>;
  constexpr int kRowTiles = L::kRowTiles;
  extern __shared__ __align__(16) unsigned char shared_bytes[];
  T* const q_tile = reinterpret_cast<T*>(shared_bytes);
  const uint32_t q_addr = shared_address(q_tile);
  auto k_addr = [&](int stage) {
    return q_addr + static_cast<uint32_t>((L::kQElems + stage * 2 * L::kTileElems) * kElemBytes);
  };
  auto v_addr = [&](int stage) { return k_addr(stage) + static_cast<uint32_t>(L::kTileElems * kElemBytes); };
  auto mask_addr = [&](int stage) {
    return k_addr(kStages) + static_cast<uint32_t>(stage * L::kMaskElems * kElemBytes);
  };
  const T* const mask_stage = reinterpret_cast<const T*>(shared_bytes + (mask_addr(0) - q_addr));

  const int warp = static_cast<int>(threadIdx.x) / kWarpSize, lane = static_cast<int>(threadIdx.x) % kWarpSize;
  const int g = lane / 4, t = lane % 4;  // fragment row group and column pair
  const int64_t b = blockIdx.z, h = blockIdx.y;
  const int seq_q = static_cast<int>(args.seq_q), seq_k = static_cast<int>(args.seq_k);
  const int q0 = static_cast<int>(blockIdx.x) * L::kBlockRows;
  const T* q = static_cast<const T*>(args.q) + b * args.q_strides.batch + h * args.q_strides.head;
  const T* k = static_cast<const T*>(args.k) + b * args.k_strides.batch + h * args.k_strides.head;
  const T* v = static_cast<const T*>(args.v) + b * args.v_strides.batch + h * args.v_strides.head;

  // This lane's query rows: g and g + 8 of each of the warp's m16 tiles.
  const int warp_row0 = warp * L::kWarpRows;
  MaskKind mask_kind = MaskKind::kNone;
  const T* mask_rows[kRowTiles][2] = {};
  bool mask_pairs = false;
  if (args.mask != nullptr) {
    const T* mask_bh = static_cast<const T*>(args.mask) + b * args.mask_strides[0] + h * args.mask_strides[1];
    mask_kind = args.mask_strides[2] == 0 ? MaskKind::kSharedRow : MaskKind::kPerRow;
    // Key pairs start at even keys: one 32-bit load when the row is contiguous and 4-byte aligned.
    mask_pairs = args.mask_strides[3] == 1 && args.mask_strides[2] % 2 == 0 &&
                 reinterpret_cast<uintptr_t>(mask_bh) % 4 == 0;
    if (mask_kind == MaskKind::kSharedRow && args.mask_strides[3] == 1 && seq_k % kChunkElems == 0 &&
        reinterpret_cast<uintptr_t>(mask_bh) % 16 == 0) {
      mask_kind = MaskKind::kStagedRow;
    }
#pragma unroll
    for (int mt = 0; mt < kRowTiles; ++mt) {
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        const int row = q0 + warp_row0 + mt * 16 + g + 8 * r;
        const int clamped = row < seq_q ? row : seq_q - 1;  // rows past seq_q are computed, never stored
        mask_rows[mt][r] = mask_bh + static_cast<int64_t>(clamped) * args.mask_strides[2];
      }
    }
  }

  // Group 0: the Q tile; group 1: the first K, V (and mask) tiles, still in flight while Q is
  // unpacked.
  copy_tile<D, L::kBlockRows, L::kThreads, L::kPitch>(q_addr, q, args.q_strides.seq, q0, seq_q);
  cp_async_commit();
  copy_tile<D, kBlockKeys, L::kThreads, L::kPitch>(k_addr(0), k, args.k_strides.seq, 0, seq_k);
  copy_tile<D, kBlockKeys, L::kThreads, L::kPitch>(v_addr(0), v, args.v_strides.seq, 0, seq_k);
  if (mask_kind == MaskKind::kStagedRow) copy_mask_tile(mask_addr(0), mask_rows[0][0], 0, seq_k);
  cp_async_commit();

  // Per-lane ldmatrix offsets (elements) inside a tile; see tensor_core.cuh for which lane
  // addresses which row. Q (A operand): matrices (rows 0-7 | 8-15) x (cols 0-7 | 8-15) in
  // a0..a3 order. K (B operand, keys are B's columns): matrices (keys 0-7, dims 0-7),
  // (keys 0-7, dims 8-15), (keys 8-15, dims 0-7), (keys 8-15, dims 8-15) = b0, b1 of key tile
  // 2p and b0, b1 of key tile 2p + 1. V (B operand, transposed load): (keys 0-7 | 8-15) x
  // (dims 0-7), then x (dims 8-15) = b0, b1 of dim tile 2p and of dim tile 2p + 1.
  const int q_lane = (warp_row0 + (lane & 15)) * L::kPitch + (lane >> 4) * 8;
  const int k_lane = ((lane & 7) + ((lane >> 4) << 3)) * L::kPitch + ((lane >> 3) & 1) * 8;
  const int v_lane = (lane & 15) * L::kPitch + (lane >> 4) * 8;

  const float scale_log2 = args.scale * kLog2e;
  cp_async_wait<1>();  // the Q group
  __syncthreads();
  uint32_t q_frag[kRowTiles][L::kDChunks][4];
#pragma unroll
  for (int mt = 0; mt < kRowTiles; ++mt) {
#pragma unroll
    for (int c = 0; c < L::kDChunks; ++c) {
      ldmatrix_x4(q_frag[mt][c], q_addr + static_cast<uint32_t>((q_lane + mt * 16 * L::kPitch + c * 16) * kElemBytes));
    }
  }
  float acc[kRowTiles][L::kDTiles][4];
  float row_max[kRowTiles][2], row_sum[kRowTiles][2];  // row_sum: this lane's share of the quad's
#pragma unroll
  for (int mt = 0; mt < kRowTiles; ++mt) {
#pragma unroll
    for (int n = 0; n < L::kDTiles; ++n) acc[mt][n][0] = acc[mt][n][1] = acc[mt][n][2] = acc[mt][n][3] = 0.0f;
    row_max[mt][0] = row_max[mt][1] = -INFINITY;
    row_sum[mt][0] = row_sum[mt][1] = 0.0f;
  }

  const int tiles = (seq_k + kBlockKeys - 1) / kBlockKeys;
  for (int j = 0; j < tiles; ++j) {
    const int stage = j & 1;
    const int kv0 = j * kBlockKeys;
    // Prefetch tile j + 1 into the other stage (its readers finished at the end of j - 1), then
    // wait for tile j only (the newest group may stay in flight). The group is committed even
    // when empty so the count stays uniform.
    if (j + 1 < tiles) {
      copy_tile<D, kBlockKeys, L::kThreads, L::kPitch>(k_addr(stage ^ 1), k, args.k_strides.seq, kv0 + kBlockKeys, seq_k);
      copy_tile<D, kBlockKeys, L::kThreads, L::kPitch>(v_addr(stage ^ 1), v, args.v_strides.seq, kv0 + kBlockKeys, seq_k);
      if (mask_kind == MaskKind::kStagedRow) copy_mask_tile(mask_addr(stage ^ 1), mask_rows[0][0], kv0 + kBlockKeys, seq_k);
    }
    cp_async_commit();
    cp_async_wait<1>();
    __syncthreads();

    // A padding mask is the same for every row: read it before the products, so its latency
    // hides behind them.
    float2 shared_mask[kKeyTiles];
    if (mask_kind == MaskKind::kSharedRow) {
#pragma unroll
      for (int n = 0; n < kKeyTiles; ++n) {
        shared_mask[n] = mask_pair(mask_rows[0][0], kv0 + n * 8 + 2 * t, args.mask_strides[3], seq_k, mask_pairs);
      }
    }

    // S = Q K^T.
    float s[kRowTiles][kKeyTiles][4];
#pragma unroll
    for (int mt = 0; mt < kRowTiles; ++mt) {
#pragma unroll
      for (int n = 0; n < kKeyTiles; ++n) s[mt][n][0] = s[mt][n][1] = s[mt][n][2] = s[mt][n][3] = 0.0f;
    }
    const uint32_t k_tile = k_addr(stage);
#pragma unroll
    for (int c = 0; c < L::kDChunks; ++c) {
#pragma unroll
      for (int p = 0; p < kKeyTiles / 2; ++p) {
        uint32_t kf[4];
        ldmatrix_x4(kf, k_tile + static_cast<uint32_t>((k_lane + p * 16 * L::kPitch + c * 16) * kElemBytes));
#pragma unroll
        for (int mt = 0; mt < kRowTiles; ++mt) {
          mma_16x8x16<T>(s[mt][2 * p], q_frag[mt][c], kf[0], kf[1]);
          mma_16x8x16<T>(s[mt][2 * p + 1], q_frag[mt][c], kf[2], kf[3]);
        }
      }
    }

    // Scores in the base-2 domain: s * scale * log2(e) + mask * log2(e). Element e of key tile
    // n is row (e < 2 ? g : g + 8), key kv0 + 8n + 2t + (e & 1).
#pragma unroll
    for (int mt = 0; mt < kRowTiles; ++mt) {
#pragma unroll
      for (int n = 0; n < kKeyTiles; ++n) {
#pragma unroll
        for (int e = 0; e < 4; ++e) s[mt][n][e] *= scale_log2;
      }
    }
    if (mask_kind == MaskKind::kStagedRow) {
      // Keys 8n + 2t and + 1 of this tile: one 32-bit shared load (the quad's lanes with the
      // same t read the same word: a broadcast).
      const T* tile_mask = mask_stage + stage * L::kMaskElems + 2 * t;
#pragma unroll
      for (int n = 0; n < kKeyTiles; ++n) {
        const uint32_t both = *reinterpret_cast<const uint32_t*>(tile_mask + n * 8);
        const float lo = mask_to_log2(bits_to_float<T>(static_cast<uint16_t>(both & 0xffffu)));
        const float hi = mask_to_log2(bits_to_float<T>(static_cast<uint16_t>(both >> 16)));
#pragma unroll
        for (int mt = 0; mt < kRowTiles; ++mt) {
          s[mt][n][0] += lo;
          s[mt][n][1] += hi;
          s[mt][n][2] += lo;
          s[mt][n][3] += hi;
        }
      }
    } else if (mask_kind == MaskKind::kSharedRow) {
#pragma unroll
      for (int mt = 0; mt < kRowTiles; ++mt) {
#pragma unroll
        for (int n = 0; n < kKeyTiles; ++n) {
          s[mt][n][0] += shared_mask[n].x;
          s[mt][n][1] += shared_mask[n].y;
          s[mt][n][2] += shared_mask[n].x;
          s[mt][n][3] += shared_mask[n].y;
        }
      }
    } else if (mask_kind == MaskKind::kPerRow) {
#pragma unroll
      for (int mt = 0; mt < kRowTiles; ++mt) {
#pragma unroll
        for (int r = 0; r < 2; ++r) {
#pragma unroll
          for (int n = 0; n < kKeyTiles; ++n) {
            const float2 m = mask_pair(mask_rows[mt][r], kv0 + n * 8 + 2 * t, args.mask_strides[3], seq_k, mask_pairs);
            s[mt][n][2 * r] += m.x;
            s[mt][n][2 * r + 1] += m.y;
          }
        }
      }
    }
    if (kv0 + kBlockKeys > seq_k) {  // the last, partial tile: keys past the end do not exist
#pragma unroll
      for (int n = 0; n < kKeyTiles; ++n) {
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          if (kv0 + n * 8 + 2 * t + (e & 1) >= seq_k) {
#pragma unroll
            for (int mt = 0; mt < kRowTiles; ++mt) s[mt][n][e] = -INFINITY;
          }
        }
      }
    }

    // Online softmax. The quad (4 lanes) holding a row agrees on its max, so every lane's
    // partial sum and accumulator are rescaled alike.
#pragma unroll
    for (int mt = 0; mt < kRowTiles; ++mt) {
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        float m = row_max[mt][r];
#pragma unroll
        for (int n = 0; n < kKeyTiles; ++n) m = fmaxf(m, fmaxf(s[mt][n][2 * r], s[mt][n][2 * r + 1]));
        m = fmaxf(m, __shfl_xor_sync(kFullWarpMask, m, 1));
        m = fmaxf(m, __shfl_xor_sync(kFullWarpMask, m, 2));
        // A row with every key so far at -inf keeps max -inf: shift by 0, so exp2(-inf) = 0
        // everywhere instead of exp2(-inf - -inf) = NaN.
        const float shift = m == -INFINITY ? 0.0f : m;
        const float rescale = fast_exp2(row_max[mt][r] - shift);
        row_max[mt][r] = m;
        float sum = 0.0f;
#pragma unroll
        for (int n = 0; n < kKeyTiles; ++n) {
          s[mt][n][2 * r] = fast_exp2(s[mt][n][2 * r] - shift);
          s[mt][n][2 * r + 1] = fast_exp2(s[mt][n][2 * r + 1] - shift);
          sum += s[mt][n][2 * r] + s[mt][n][2 * r + 1];
        }
        row_sum[mt][r] = row_sum[mt][r] * rescale + sum;
#pragma unroll
        for (int n = 0; n < L::kDTiles; ++n) {
          acc[mt][n][2 * r] *= rescale;
          acc[mt][n][2 * r + 1] *= rescale;
        }
      }
    }

    // O += P V: the probabilities of key tiles 2c and 2c + 1 are the A operand of k16 step c.
    const uint32_t v_tile = v_addr(stage);
#pragma unroll
    for (int c = 0; c < kKeyChunks; ++c) {
      uint32_t p_frag[kRowTiles][4];
#pragma unroll
      for (int mt = 0; mt < kRowTiles; ++mt) {
        p_frag[mt][0] = pack2<T>(s[mt][2 * c][0], s[mt][2 * c][1]);
        p_frag[mt][1] = pack2<T>(s[mt][2 * c][2], s[mt][2 * c][3]);
        p_frag[mt][2] = pack2<T>(s[mt][2 * c + 1][0], s[mt][2 * c + 1][1]);
        p_frag[mt][3] = pack2<T>(s[mt][2 * c + 1][2], s[mt][2 * c + 1][3]);
      }
#pragma unroll
      for (int p = 0; p < L::kDTiles / 2; ++p) {
        uint32_t vf[4];
        ldmatrix_x4_trans(vf, v_tile + static_cast<uint32_t>((v_lane + c * 16 * L::kPitch + p * 16) * kElemBytes));
#pragma unroll
        for (int mt = 0; mt < kRowTiles; ++mt) {
          mma_16x8x16<T>(acc[mt][2 * p], p_frag[mt], vf[0], vf[1]);
          mma_16x8x16<T>(acc[mt][2 * p + 1], p_frag[mt], vf[2], vf[3]);
        }
      }
    }
    __syncthreads();  // every warp is done with this stage before the next prefetch overwrites it
  }

  // Normalize and stage the warp's rows in its own rows of the Q tile (only this warp ever read
  // them), then store 16-byte chunks of whole rows.
#pragma unroll
  for (int mt = 0; mt < kRowTiles; ++mt) {
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      float l = row_sum[mt][r];
      l += __shfl_xor_sync(kFullWarpMask, l, 1);
      l += __shfl_xor_sync(kFullWarpMask, l, 2);
      const float inv = l > 0.0f ? 1.0f / l : 0.0f;  // fully masked rows: zeros
      T* staged = q_tile + (warp_row0 + mt * 16 + g + 8 * r) * L::kPitch + 2 * t;
#pragma unroll
      for (int n = 0; n < L::kDTiles; ++n) {
        *reinterpret_cast<uint32_t*>(staged + n * 8) = pack2<T>(acc[mt][n][2 * r] * inv, acc[mt][n][2 * r + 1] * inv);
      }
    }
  }
  __syncwarp();
  T* out = static_cast<T*>(args.out) + b * args.out_strides.batch + h * args.out_strides.head;
  constexpr int kChunksPerRow = D / kChunkElems;
  constexpr int kWarpChunks = L::kWarpRows * kChunksPerRow;
  static_assert(kWarpChunks % kWarpSize == 0, "every lane stores the same number of chunks");
#pragma unroll
  for (int i = 0; i < kWarpChunks / kWarpSize; ++i) {
    const int chunk = i * kWarpSize + lane;
    const int r = chunk / kChunksPerRow, c = (chunk % kChunksPerRow) * kChunkElems;
    const int row = q0 + warp_row0 + r;
    if (row < seq_q) {
      *reinterpret_cast<uint4*>(out + static_cast<int64_t>(row) * args.out_strides.seq + c) =
          *reinterpret_cast<const uint4*>(q_tile + (warp_row0 + r) * L::kPitch + c);
    }
  }
}

template <class T, int D, int kRows>
Status launch(const AttentionArgs& args, cudaStream_t stream) {
  using L = Layout<D, kRows>;
  const auto kernel = flash_attention_kernel<T, D, kRows>;
  // Over 48 KB of dynamic shared memory needs an opt-in (cheap, and allowed during capture).
  KILN_RETURN_IF_ERROR(cuda_status(
      cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(L::kSharedBytes)),
      "cudaFuncSetAttribute(flash_attention_kernel)"));
  // Prefer shared memory over L1 so two 128-row D = 64 blocks (2 x 54 KB) fit per SM.
  KILN_RETURN_IF_ERROR(cuda_status(
      cudaFuncSetAttribute(kernel, cudaFuncAttributePreferredSharedMemoryCarveout, cudaSharedmemCarveoutMaxShared),
      "cudaFuncSetAttribute(flash_attention_kernel)"));
  const dim3 grid(static_cast<unsigned>((args.seq_q + L::kBlockRows - 1) / L::kBlockRows), static_cast<unsigned>(args.heads),
                  static_cast<unsigned>(args.batch));
  kernel<<<grid, L::kThreads, L::kSharedBytes, stream>>>(args);
  return check_launch("flash_attention_kernel");
}

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

bool chunk_aligned(const AttentionStrides& s) {
  return s.batch % kChunkElems == 0 && s.head % kChunkElems == 0 && s.seq % kChunkElems == 0;
}

Status validate(const AttentionArgs& a) {
  constexpr int64_t kMaxGridYZ = 65535;
  constexpr int64_t kBlockRows = 128;  // the larger tile
  if (a.q == nullptr || a.k == nullptr || a.v == nullptr || a.out == nullptr) {
    return invalid_argument("scaled_dot_product_attention: Q, K, V and the output must be non-null");
  }
  if (a.batch <= 0 || a.heads <= 0 || a.seq_q <= 0 || a.seq_k <= 0) {
    return invalid_argument("scaled_dot_product_attention: batch, heads, seq_q and seq_k must be positive");
  }
  if (!attention_supports_head_dim(a.head_dim)) {
    return unimplemented("scaled_dot_product_attention: head dim " + std::to_string(a.head_dim) + " has no kernel (64 or 128)");
  }
  if (a.batch > kMaxGridYZ || a.heads > kMaxGridYZ) {
    return invalid_argument("scaled_dot_product_attention: batch and heads must be at most 65535");
  }
  // Row indices inside the kernel are 32-bit (one block row past the end included).
  if (a.seq_q > INT_MAX - kBlockRows || a.seq_k > INT_MAX - kBlockKeys) {
    return invalid_argument("scaled_dot_product_attention: sequence lengths must fit in 31 bits");
  }
  if (!aligned16(a.q) || !aligned16(a.k) || !aligned16(a.v) || !aligned16(a.out)) {
    return invalid_argument("scaled_dot_product_attention: Q, K, V and the output must be 16-byte aligned");
  }
  for (const AttentionStrides* s : {&a.q_strides, &a.k_strides, &a.v_strides, &a.out_strides}) {
    if (s->batch < 0 || s->head < 0 || s->seq <= 0) {
      return invalid_argument("scaled_dot_product_attention: strides must be set (sequence stride > 0, others >= 0)");
    }
    if (!chunk_aligned(*s)) {
      return invalid_argument("scaled_dot_product_attention: Q, K, V and output strides must be multiples of 8 elements");
    }
  }
  if ((a.batch > 1 && a.out_strides.batch == 0) || (a.heads > 1 && a.out_strides.head == 0)) {
    return invalid_argument("scaled_dot_product_attention: the output cannot broadcast over batch or heads");
  }
  for (int64_t stride : a.mask_strides) {
    if (stride < 0) return invalid_argument("scaled_dot_product_attention: negative mask stride");
  }
  if (std::find(std::begin(kAttentionBlockRows), std::end(kAttentionBlockRows), a.block_rows) == std::end(kAttentionBlockRows)) {
    return invalid_argument("scaled_dot_product_attention: block_rows must be 64 or 128, not " + std::to_string(a.block_rows));
  }
  return Status::ok_status();
}

template <class T, int D>
Status launch_for_rows(const AttentionArgs& args, cudaStream_t stream) {
  if (args.block_rows == 64) return launch<T, D, 64>(args, stream);
  return launch<T, D, 128>(args, stream);
}

template <class T>
Status launch_for_head_dim(const AttentionArgs& args, cudaStream_t stream) {
  if (args.head_dim == 64) return launch_for_rows<T, 64>(args, stream);
  return launch_for_rows<T, 128>(args, stream);
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
