// Private to the linalg schema files (linalg*.cpp): per-file registration and shared helpers.
#pragma once

#include <vector>

#include "ir/op_schema.h"

namespace kiln::ir::linalg {

void register_matmul_schemas(SchemaRegistry& registry);   // MatMul, MatMulInteger, Gemm
void register_resize_schema(SchemaRegistry& registry);
void register_einsum_schema(SchemaRegistry& registry);

// Numpy broadcast of two symbolic shapes; nullopt-free: an error names both dims on conflict.
Result<SymShape> broadcast_sym(const InferContext& ctx, const SymShape& a, const SymShape& b);

// Product of dims, counting unknown (-1) dims as 1 so FLOP estimates of dynamic shapes stay
// non-negative.
double known_numel(const Shape& shape);

}  // namespace kiln::ir::linalg
