// Runs every node's schema inference in topological order and records the result on its
// outputs, merged with what the model declared (declared symbols fill unknown dims; a
// contradiction between the two is an error naming the value).
#pragma once

#include "ir/graph.h"
#include "kiln/status.h"

namespace kiln::ir {

Status infer_shapes(Graph& graph);

// Merges `inferred` into `declared` for one value; exposed for tests.
Result<ValueType> merge_value_types(const ValueType& declared, const ValueType& inferred,
                                    const std::string& value_name);

}  // namespace kiln::ir
