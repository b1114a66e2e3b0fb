// Textual form of a graph, for --dump-after, bug reports and before/after pass tests:
//
//   graph resnet50 (opset 17)
//     input x: float32[N,3,224,224]
//     const conv1.weight: float32[64,3,7,7]
//     %conv1_out: float32[N,64,112,112] = Conv(%x, %conv1.weight, _) {pads=[3,3,3,3]}  # conv1
//     output %conv1_out
//
// "_" stands for an absent optional input. Constants print their type, not their data.
#pragma once

#include <string>

#include "ir/graph.h"

namespace kiln::ir {

std::string to_text(const Graph& graph);

}  // namespace kiln::ir
