// Fixing dynamic input dims to concrete sizes (kiln inspect --shapes, kiln build --shapes).
#pragma once

#include <map>
#include <string>

#include "ir/graph.h"
#include "kiln/shape.h"
#include "kiln/status.h"

namespace kiln::engine {

// Replaces the declared shape of each named input by the given concrete one. Symbols fixed this
// way (say N = 4) are also fixed in the other inputs that use them, so that inputs stay consistent.
Status fix_input_shapes(ir::Graph& graph, const std::map<std::string, Shape>& shapes);

}  // namespace kiln::engine
