// The `activation` attribute of the fused ops (FusedConv, FusedMatMul; docs/fused-ops.md),
// decoded once for the schemas, the passes that create the ops and every backend that runs them.
#pragma once

#include <limits>
#include <string>

#include "core/attributes.h"
#include "kiln/status.h"

namespace kiln {

enum class FusedActivation { kNone, kRelu, kSigmoid, kTanh, kHardSwish, kGelu, kGeluTanh, kLeakyRelu, kClip };

struct FusedActivationSpec {
  FusedActivation kind = FusedActivation::kNone;
  float alpha = 0.01f;  // LeakyRelu slope (`activation_alpha`); ONNX LeakyRelu's default
  float min = -std::numeric_limits<float>::infinity();  // Clip bounds (`activation_min/max`)
  float max = std::numeric_limits<float>::infinity();
};

inline constexpr const char* kActivationAttr = "activation";
inline constexpr const char* kActivationAlphaAttr = "activation_alpha";
inline constexpr const char* kActivationMinAttr = "activation_min";
inline constexpr const char* kActivationMaxAttr = "activation_max";

// Reads `activation` and its parameters; an unknown name is an INVALID_ARGUMENT naming it.
Result<FusedActivationSpec> decode_fused_activation(const Attributes& attrs);

// The attribute value for `kind` ("" for kNone, "Relu", ..., "GeluTanh").
std::string fused_activation_name(FusedActivation kind);

// Writes `spec` into `attrs` (omitting defaults), the inverse of decode_fused_activation.
void set_fused_activation(Attributes& attrs, const FusedActivationSpec& spec);

}  // namespace kiln
