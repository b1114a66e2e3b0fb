// What the two horizontal fusions share: finding sibling nodes (same op and attributes, same
// first input, constant weights) and replacing them by one node whose output a Split divides
// back into the siblings' outputs.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "kiln/status.h"

namespace kiln::passes {

struct SiblingRule {
  // Whether `node` may join a group at all (its weights constant, its attributes supported).
  std::function<bool(const ir::Graph&, const ir::Node&)> eligible;
  // Output size of `node` along the split axis (its weight's output dim).
  std::function<int64_t(const ir::Node&)> width;
  // The merged node's weight (and bias) from the group's, concatenated along the output dim.
  std::function<std::vector<ir::Value*>(ir::Graph&, const std::vector<ir::Node*>&)> merged_inputs;
  int64_t split_axis = -1;
};

// Merges every group of two or more eligible siblings; true when any group was merged.
Result<bool> merge_siblings(ir::Graph& graph, OpKind op, const SiblingRule& rule);

// `values` of constants with shapes [outer, width_i, inner] concatenated along the middle axis.
ir::Value* concat_constants(ir::Graph& graph, const std::vector<const ir::Value*>& values, size_t axis,
                            const std::string& name);

}  // namespace kiln::passes
