// Which standalone activation nodes a fused op's `activation` attribute can absorb
// (docs/fused-ops.md), shared by the conv and matmul fusions.
#pragma once

#include <optional>

#include "core/fused_activation.h"
#include "ir/graph.h"
#include "passes/pattern.h"

namespace kiln::passes {

// The fused form of `node` when it is an activation FusedConv/FusedMatMul can absorb (Relu,
// Sigmoid, Tanh, HardSwish, Gelu, LeakyRelu, Clip with constant bounds); nullopt otherwise.
std::optional<FusedActivationSpec> absorbable_activation(const ir::Graph& graph, const ir::Node& node);

// Extends a fusion chain (nodes, activation, result) by the absorbable activation that is the
// only reader of its result.
template <class Chain>
void absorb_activation(const ir::Graph& graph, Chain& chain) {
  ir::Node* act = sole_reader(graph, chain.result);
  if (!act || act->input(0) != chain.result) return;
  auto spec = absorbable_activation(graph, *act);
  if (!spec) return;
  chain.activation = *spec;
  chain.nodes.push_back(act);
  chain.result = act->output(0);
}

}  // namespace kiln::passes
