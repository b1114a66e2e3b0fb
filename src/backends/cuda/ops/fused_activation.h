// The `activation` attribute of the fused ops (docs/fused-ops.md; decoded by
// core/fused_activation.h) as the UnaryOp the CUDA kernels apply.
#pragma once

#include "backends/cuda/kernels/elementwise.h"
#include "core/attributes.h"
#include "kiln/status.h"

namespace kiln::cuda {

struct ActivationChoice {
  UnaryOp op = UnaryOp::kIdentity;
  UnaryParams params;
};

Result<ActivationChoice> fused_activation(const Attributes& attrs);

}  // namespace kiln::cuda
