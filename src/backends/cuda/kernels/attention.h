// Fused scaled dot-product attention: out = softmax(Q K^T * scale + mask) V, computed tile by
// tile with an online softmax so the Sq x Sk score matrix lives only in registers and shared
// memory, never in device memory. Storage float16/bfloat16, FP32 accumulation and statistics.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "kiln/dtype.h"
#include "kiln/status.h"

namespace kiln::cuda {

// Head dims with a compiled kernel (BERT: 64; many LLMs: 128).
inline constexpr int64_t kAttentionHeadDims[] = {64, 128};

struct AttentionArgs {
  const void* q = nullptr;     // [batch, heads, seq_q, head_dim], contiguous
  const void* k = nullptr;     // [batch, heads, seq_k, head_dim]
  const void* v = nullptr;     // [batch, heads, seq_k, head_dim]
  const void* mask = nullptr;  // optional additive mask in the storage dtype, indexed by mask_strides
  void* out = nullptr;         // [batch, heads, seq_q, head_dim]
  int64_t batch = 0;
  int64_t heads = 0;
  int64_t seq_q = 0;
  int64_t seq_k = 0;
  int64_t head_dim = 0;
  // Element strides of the mask along [batch, heads, seq_q, seq_k]; 0 broadcasts an axis.
  int64_t mask_strides[4] = {0, 0, 0, 0};
  float scale = 1.0f;
};

bool attention_supports_head_dim(int64_t head_dim);

Status scaled_dot_product_attention(DType dtype, const AttentionArgs& args, cudaStream_t stream);

}  // namespace kiln::cuda
