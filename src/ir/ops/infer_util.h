// Helpers shared by the per-family schema files.
#pragma once

#include <optional>
#include <vector>

#include "ir/op_schema.h"

namespace kiln::ir {

// Output 0 = input `i`'s dtype and shape (unary elementwise ops).
Status infer_same_as_input(InferContext& ctx, size_t i = 0);

// Broadcast of the symbolic shapes of all present inputs; nullopt if any rank is unknown.
// Equal symbols broadcast to that symbol; 1 vs symbol gives the symbol.
Result<std::optional<SymShape>> broadcast_inputs(const InferContext& ctx, size_t first = 0,
                                                 size_t last = SIZE_MAX);

// The integer contents of a constant int32/int64 input, or nullopt if it is not constant.
std::optional<std::vector<int64_t>> constant_ints(const InferContext& ctx, size_t i);

// A symbolic shape of `rank` unknown dims.
SymShape unknown_dims(size_t rank);

// An error naming the node and `shape` when the product of its known dims overflows int64: no
// tensor of that shape can exist. For ops whose output size comes from constant data.
Status check_element_count(const InferContext& ctx, const SymShape& shape);

}  // namespace kiln::ir
