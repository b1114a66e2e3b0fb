#include "backends/cuda/ops/fused_activation.h"

#include "core/fused_activation.h"

namespace kiln::cuda {

Result<ActivationChoice> fused_activation(const Attributes& attrs) {
  KILN_ASSIGN_OR_RETURN(const FusedActivationSpec spec, decode_fused_activation(attrs));
  switch (spec.kind) {
    case FusedActivation::kNone: return ActivationChoice{UnaryOp::kIdentity};
    case FusedActivation::kRelu: return ActivationChoice{UnaryOp::kRelu};
    case FusedActivation::kSigmoid: return ActivationChoice{UnaryOp::kSigmoid};
    case FusedActivation::kTanh: return ActivationChoice{UnaryOp::kTanh};
    case FusedActivation::kHardSwish: return ActivationChoice{UnaryOp::kHardSwish};
    case FusedActivation::kGelu: return ActivationChoice{UnaryOp::kGeluErf};
    case FusedActivation::kGeluTanh: return ActivationChoice{UnaryOp::kGeluTanh};
    case FusedActivation::kLeakyRelu: return ActivationChoice{UnaryOp::kLeakyRelu, {spec.alpha, 0.0f}};
    case FusedActivation::kClip: return ActivationChoice{UnaryOp::kClip, {spec.min, spec.max}};
  }
  return unimplemented("fused activation " + fused_activation_name(spec.kind));
}

}  // namespace kiln::cuda
