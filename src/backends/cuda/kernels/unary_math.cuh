// The math of every UnaryOp, shared by the unary kernels and the bias+activation epilogue.
#pragma once

#include "backends/cuda/kernels/device_common.cuh"
#include "backends/cuda/kernels/elementwise.h"

namespace kiln::cuda {

inline constexpr float kInvSqrt2 = 0.70710678118654752440f;
inline constexpr float kSqrt2OverPi = 0.79788456080286535588f;
inline constexpr float kGeluTanhCubic = 0.044715f;
inline constexpr float kHardSwishSlope = 1.0f / 6.0f;
inline constexpr float kHardSwishOffset = 0.5f;

template <UnaryOp Op>
__device__ __forceinline__ float apply_unary(float x, UnaryParams p) {
  if constexpr (Op == UnaryOp::kRelu) return fmaxf(x, 0.0f);
  if constexpr (Op == UnaryOp::kSigmoid) return 1.0f / (1.0f + expf(-x));
  if constexpr (Op == UnaryOp::kTanh) return tanhf(x);
  if constexpr (Op == UnaryOp::kGeluErf) return 0.5f * x * (1.0f + erff(x * kInvSqrt2));
  if constexpr (Op == UnaryOp::kGeluTanh) return 0.5f * x * (1.0f + tanhf(kSqrt2OverPi * (x + kGeluTanhCubic * x * x * x)));
  if constexpr (Op == UnaryOp::kHardSwish) return x * fminf(fmaxf(x * kHardSwishSlope + kHardSwishOffset, 0.0f), 1.0f);
  if constexpr (Op == UnaryOp::kErf) return erff(x);
  if constexpr (Op == UnaryOp::kSqrt) return sqrtf(x);
  if constexpr (Op == UnaryOp::kExp) return expf(x);
  if constexpr (Op == UnaryOp::kPowScalar) return powf(x, p.alpha);
  if constexpr (Op == UnaryOp::kLeakyRelu) return x < 0.0f ? p.alpha * x : x;
  if constexpr (Op == UnaryOp::kClip) return fminf(fmaxf(x, p.alpha), p.beta);
  return x;
}

// Calls f(std::integral_constant<UnaryOp, op>{}) so each op gets its own instantiation.
template <class F>
Status dispatch_unary(UnaryOp op, F&& f) {
  switch (op) {
#define KILN_UNARY_CASE(name) \
  case UnaryOp::name: return f(std::integral_constant<UnaryOp, UnaryOp::name>{});
    KILN_UNARY_CASE(kIdentity)
    KILN_UNARY_CASE(kRelu)
    KILN_UNARY_CASE(kSigmoid)
    KILN_UNARY_CASE(kTanh)
    KILN_UNARY_CASE(kGeluErf)
    KILN_UNARY_CASE(kGeluTanh)
    KILN_UNARY_CASE(kHardSwish)
    KILN_UNARY_CASE(kErf)
    KILN_UNARY_CASE(kSqrt)
    KILN_UNARY_CASE(kExp)
    KILN_UNARY_CASE(kPowScalar)
    KILN_UNARY_CASE(kLeakyRelu)
    KILN_UNARY_CASE(kClip)
#undef KILN_UNARY_CASE
  }
  return invalid_argument("unknown UnaryOp " + std::to_string(static_cast<int>(op)));
}

}  // namespace kiln::cuda
