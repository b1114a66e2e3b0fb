// Elementwise CUDA kernels: unary activations and broadcasting binary arithmetic. Storage
// float32/float16/bfloat16, math in float. Pointers are device pointers; shapes are concrete.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "kiln/dtype.h"
#include "kiln/shape.h"
#include "kiln/status.h"

namespace kiln::cuda {

enum class UnaryOp { kRelu, kSigmoid, kTanh, kGeluErf, kGeluTanh, kHardSwish };
enum class BinaryOp { kAdd, kSub, kMul, kDiv };

// y[i] = op(x[i]) for i < n. x and y may alias.
Status unary_elementwise(UnaryOp op, DType dtype, const void* x, void* y, int64_t n, cudaStream_t stream);

// out = a op b with numpy broadcasting; out_shape must be the broadcast of a_shape and b_shape.
// Ranks above kMaxBroadcastRank are rejected.
inline constexpr int kMaxBroadcastRank = 8;
Status binary_broadcast(BinaryOp op, DType dtype, const void* a, const Shape& a_shape, const void* b,
                        const Shape& b_shape, void* out, const Shape& out_shape, cudaStream_t stream);

}  // namespace kiln::cuda
