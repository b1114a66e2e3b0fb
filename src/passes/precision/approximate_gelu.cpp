#include "passes/precision/approximate_gelu.h"

#include <string>

#include "core/fused_activation.h"

namespace kiln::passes {

Result<bool> approximate_gelu(ir::Graph& graph) {
  bool changed = false;
  for (const auto& node : graph.nodes()) {
    Attributes& attrs = node->mutable_attrs();
    if (node->op() == OpKind::Gelu && attrs.get_string("approximate", "none") == "none") {
      attrs.set("approximate", std::string("tanh"));
      changed = true;
    } else if ((node->op() == OpKind::FusedMatMul || node->op() == OpKind::FusedConv) &&
               attrs.get_string(kActivationAttr, "") == "Gelu") {
      attrs.set(kActivationAttr, std::string("GeluTanh"));
      changed = true;
    }
  }
  return changed;
}

}  // namespace kiln::passes
