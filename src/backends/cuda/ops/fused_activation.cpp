#include "backends/cuda/ops/fused_activation.h"

#include <cmath>

namespace kiln::cuda {
namespace {
constexpr float kLeakyReluDefaultAlpha = 0.01f;
}  // namespace

Result<ActivationChoice> fused_activation(const Attributes& attrs) {
  const std::string name = attrs.get_string("activation", "");
  if (name.empty()) return ActivationChoice{UnaryOp::kIdentity};
  if (name == "Relu") return ActivationChoice{UnaryOp::kRelu};
  if (name == "Sigmoid") return ActivationChoice{UnaryOp::kSigmoid};
  if (name == "Tanh") return ActivationChoice{UnaryOp::kTanh};
  if (name == "HardSwish") return ActivationChoice{UnaryOp::kHardSwish};
  if (name == "Gelu") return ActivationChoice{UnaryOp::kGeluErf};
  if (name == "GeluTanh") return ActivationChoice{UnaryOp::kGeluTanh};
  if (name == "LeakyRelu") return ActivationChoice{UnaryOp::kLeakyRelu, {attrs.get_float("activation_alpha", kLeakyReluDefaultAlpha), 0.0f}};
  if (name == "Clip") {
    return ActivationChoice{UnaryOp::kClip, {attrs.get_float("activation_min", -INFINITY), attrs.get_float("activation_max", INFINITY)}};
  }
  return unimplemented("unknown fused activation '" + name + "'");
}

}  // namespace kiln::cuda
