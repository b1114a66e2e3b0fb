// Fused scaled dot-product attention: out = softmax(Q K^T * scale + mask) V, computed tile by
// tile with an online softmax so the Sq x Sk score matrix lives only in registers and shared
// memory, never in device memory. Storage float16/bfloat16, FP32 accumulation and statistics.
// Q, K, V and the output are addressed through element strides along batch, heads and sequence
// (the head dim is contiguous), so one kernel reads [B, H, S, D], [B, S, H, D] and strided views
// such as the Q, K, V slices of one packed projection.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "kiln/dtype.h"
#include "kiln/status.h"

namespace kiln::cuda {

// Head dims with a compiled kernel (BERT: 64; many LLMs: 128).
inline constexpr int64_t kAttentionHeadDims[] = {64, 128};

// Element strides of one operand. The kernel copies 16-byte chunks, so every stride must be a
// multiple of 8 elements and every base pointer 16-byte aligned. K and V may broadcast over
// heads (head stride 0, as multi-query attention shares them); the output may not.
struct AttentionStrides {
  int64_t batch = 0;
  int64_t head = 0;
  int64_t seq = 0;
};

struct AttentionArgs {
  const void* q = nullptr;     // [batch, heads, seq_q, head_dim] through q_strides
  const void* k = nullptr;     // [batch, heads, seq_k, head_dim] through k_strides
  const void* v = nullptr;     // [batch, heads, seq_k, head_dim] through v_strides
  const void* mask = nullptr;  // optional additive mask in the storage dtype, indexed by mask_strides
  void* out = nullptr;         // [batch, heads, seq_q, head_dim] through out_strides
  int64_t batch = 0;
  int64_t heads = 0;
  int64_t seq_q = 0;
  int64_t seq_k = 0;
  int64_t head_dim = 0;
  AttentionStrides q_strides, k_strides, v_strides, out_strides;
  // Element strides of the mask along [batch, heads, seq_q, seq_k]; 0 broadcasts an axis.
  int64_t mask_strides[4] = {0, 0, 0, 0};
  float scale = 1.0f;
  // Query rows per block: 128, or 64 for grids too small to fill the GPU (see kAttentionBlockRows).
  int block_rows = 128;
};

// The query-tile heights the kernel is compiled for; the builder times each (tactic i = entry i).
inline constexpr int kAttentionBlockRows[] = {128, 64};

// Strides of a dense operand with `seq` rows per (batch, head): [B, H, S, D] when
// sequence_major is false, [B, S, H, D] when it is true.
inline AttentionStrides dense_attention_strides(bool sequence_major, int64_t heads, int64_t seq, int64_t head_dim) {
  if (sequence_major) return {seq * heads * head_dim, head_dim, heads * head_dim};
  return {heads * seq * head_dim, seq * head_dim, head_dim};
}

// Fills q/k/v/out strides for dense operands from batch, heads, seq_q, seq_k and head_dim.
inline void set_dense_attention_strides(AttentionArgs& a, bool sequence_major) {
  a.q_strides = a.out_strides = dense_attention_strides(sequence_major, a.heads, a.seq_q, a.head_dim);
  a.k_strides = a.v_strides = dense_attention_strides(sequence_major, a.heads, a.seq_k, a.head_dim);
}

bool attention_supports_head_dim(int64_t head_dim);

Status scaled_dot_product_attention(DType dtype, const AttentionArgs& args, cudaStream_t stream);

}  // namespace kiln::cuda
