// Elementwise CUDA kernels: unary activations and broadcasting binary arithmetic. Storage
// float32/float16/bfloat16, math in float. Pointers are device pointers; shapes are concrete.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "kiln/dtype.h"
#include "kiln/shape.h"
#include "kiln/status.h"

namespace kiln::cuda {

enum class UnaryOp {
  kIdentity, kRelu, kSigmoid, kTanh, kGeluErf, kGeluTanh, kHardSwish, kErf, kSqrt, kExp,
  kPowScalar,  // x ^ alpha
  kLeakyRelu,  // x < 0 ? alpha * x : x
  kClip,       // min(max(x, alpha), beta)
};
enum class BinaryOp { kAdd, kSub, kMul, kDiv, kPow };

// The scalar operands of the parameterized ops above.
struct UnaryParams {
  float alpha = 0.0f;
  float beta = 0.0f;
};

// y[i] = op(x[i]) for i < n. x and y may alias.
Status unary_elementwise(UnaryOp op, DType dtype, const void* x, void* y, int64_t n, cudaStream_t stream,
                         UnaryParams params = {});

// y[i] = op(x[i] + bias[(i / inner) % channels] + z[i]): the epilogue of a convolution (NCHW:
// inner = H*W; NHWC and matrices: inner = 1) or a matrix product. bias and z are optional
// (nullptr); x and y may alias.
struct BiasActivationArgs {
  const void* x = nullptr;
  const void* bias = nullptr;
  const void* z = nullptr;
  void* y = nullptr;
  int64_t n = 0;
  int64_t channels = 1;
  int64_t inner = 1;
  UnaryOp op = UnaryOp::kIdentity;
  UnaryParams params;
};
Status bias_activation(DType dtype, const BiasActivationArgs& args, cudaStream_t stream);

// out = a op b with numpy broadcasting; out_shape must be the broadcast of a_shape and b_shape.
// Ranks above kMaxBroadcastRank are rejected.
inline constexpr int kMaxBroadcastRank = 8;
Status binary_broadcast(BinaryOp op, DType dtype, const void* a, const Shape& a_shape, const void* b,
                        const Shape& b_shape, void* out, const Shape& out_shape, cudaStream_t stream);

}  // namespace kiln::cuda
