// The evaluator constant folding uses at build time: runs one node on the reference kernels.
// It lives in the engine because passes may not depend on backends.
#pragma once

#include "passes/fold/constant_folding.h"

namespace kiln::engine {

passes::NodeEvaluator reference_node_evaluator();

}  // namespace kiln::engine
