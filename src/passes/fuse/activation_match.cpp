#include "passes/fuse/activation_match.h"

#include "passes/pattern.h"

namespace kiln::passes {
namespace {

enum ClipInput : size_t { kClipMin = 1, kClipMax = 2 };
constexpr float kLeakyReluDefaultAlpha = 0.01f;

// A Clip bound: absent (keeps the default), or a fixed scalar constant.
bool read_clip_bound(const ir::Graph& graph, const ir::Node& node, size_t slot, float& bound) {
  const ir::Value* v = node.input(slot);
  if (!v) return true;
  auto value = scalar_constant(graph, v);
  if (!value) return false;
  bound = static_cast<float>(*value);
  return true;
}

}  // namespace

std::optional<FusedActivationSpec> absorbable_activation(const ir::Graph& graph, const ir::Node& node) {
  FusedActivationSpec spec;
  switch (node.op()) {
    case OpKind::Relu: spec.kind = FusedActivation::kRelu; return spec;
    case OpKind::Sigmoid: spec.kind = FusedActivation::kSigmoid; return spec;
    case OpKind::Tanh: spec.kind = FusedActivation::kTanh; return spec;
    case OpKind::HardSwish: spec.kind = FusedActivation::kHardSwish; return spec;
    case OpKind::Gelu: {
      const std::string approximate = node.attrs().get_string("approximate", "none");
      if (approximate != "none" && approximate != "tanh") return std::nullopt;
      spec.kind = approximate == "tanh" ? FusedActivation::kGeluTanh : FusedActivation::kGelu;
      return spec;
    }
    case OpKind::LeakyRelu:
      spec.kind = FusedActivation::kLeakyRelu;
      spec.alpha = node.attrs().get_float("alpha", kLeakyReluDefaultAlpha);
      return spec;
    case OpKind::Clip:
      spec.kind = FusedActivation::kClip;
      if (!read_clip_bound(graph, node, kClipMin, spec.min) || !read_clip_bound(graph, node, kClipMax, spec.max))
        return std::nullopt;
      if (spec.min > spec.max) return std::nullopt;
      return spec;
    default:
      return std::nullopt;
  }
}

}  // namespace kiln::passes
