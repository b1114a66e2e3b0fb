#include "core/fused_activation.h"

#include <array>
#include <utility>

namespace kiln {
namespace {

constexpr std::array<std::pair<FusedActivation, const char*>, 9> kNames = {{
    {FusedActivation::kNone, ""},
    {FusedActivation::kRelu, "Relu"},
    {FusedActivation::kSigmoid, "Sigmoid"},
    {FusedActivation::kTanh, "Tanh"},
    {FusedActivation::kHardSwish, "HardSwish"},
    {FusedActivation::kGelu, "Gelu"},
    {FusedActivation::kGeluTanh, "GeluTanh"},
    {FusedActivation::kLeakyRelu, "LeakyRelu"},
    {FusedActivation::kClip, "Clip"},
}};

}  // namespace

Result<FusedActivationSpec> decode_fused_activation(const Attributes& attrs) {
  const std::string name = attrs.get_string(kActivationAttr, "");
  FusedActivationSpec spec;
  bool known = false;
  for (const auto& [kind, text] : kNames) {
    if (name == text) {
      spec.kind = kind;
      known = true;
    }
  }
  if (!known) {
    std::string list;
    for (const auto& entry : kNames) list += std::string(list.empty() ? "\"" : ", \"") + entry.second + "\"";
    return invalid_argument("attribute 'activation' is \"" + name + "\"; expected one of " + list);
  }
  spec.alpha = attrs.get_float(kActivationAlphaAttr, spec.alpha);
  spec.min = attrs.get_float(kActivationMinAttr, spec.min);
  spec.max = attrs.get_float(kActivationMaxAttr, spec.max);
  if (spec.kind == FusedActivation::kClip && spec.min > spec.max)
    return invalid_argument("attribute 'activation_min' (" + std::to_string(spec.min) +
                            ") is greater than 'activation_max' (" + std::to_string(spec.max) + ")");
  return spec;
}

std::string fused_activation_name(FusedActivation kind) {
  for (const auto& [k, text] : kNames)
    if (k == kind) return text;
  return "";
}

void set_fused_activation(Attributes& attrs, const FusedActivationSpec& spec) {
  const FusedActivationSpec defaults;
  if (spec.kind == FusedActivation::kNone) {
    attrs.erase(kActivationAttr);
  } else {
    attrs.set(kActivationAttr, fused_activation_name(spec.kind));
  }
  if (spec.kind == FusedActivation::kLeakyRelu && spec.alpha != defaults.alpha) attrs.set(kActivationAlphaAttr, spec.alpha);
  if (spec.kind == FusedActivation::kClip) {
    if (spec.min != defaults.min) attrs.set(kActivationMinAttr, spec.min);
    if (spec.max != defaults.max) attrs.set(kActivationMaxAttr, spec.max);
  }
}

}  // namespace kiln
