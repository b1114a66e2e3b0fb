// Which standalone activation nodes a fused op's `activation` attribute can absorb
// (docs/fused-ops.md), shared by the conv and matmul fusions.
#pragma once

#include <optional>

#include "core/fused_activation.h"
#include "ir/graph.h"

namespace kiln::passes {

// The fused form of `node` when it is an activation FusedConv/FusedMatMul can absorb (Relu,
// Sigmoid, Tanh, HardSwish, Gelu, LeakyRelu, Clip with constant bounds); nullopt otherwise.
std::optional<FusedActivationSpec> absorbable_activation(const ir::Graph& graph, const ir::Node& node);

}  // namespace kiln::passes
