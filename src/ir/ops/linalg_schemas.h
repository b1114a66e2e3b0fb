// Private to the linalg schema files (linalg*.cpp): per-file registration and shared helpers.
#pragma once

#include <vector>

#include "ir/op_schema.h"

namespace kiln::ir::linalg {

void register_matmul_schemas(SchemaRegistry& registry);   // MatMul, MatMulInteger, Gemm
void register_resize_schema(SchemaRegistry& registry);
void register_einsum_schema(SchemaRegistry& registry);

// numpy.matmul shape rule: 1-D operands are promoted (a row vector for A, a column for B) and
// the promoted dim is dropped from the result; leading dims broadcast. Shared with FusedMatMul.
Result<SymShape> matmul_shape(const InferContext& ctx, const SymShape& a, const SymShape& b);
// 2*K per output element; K is A's last dim (1-D A included).
double matmul_flops(const Node& node, const std::vector<Shape>& inputs, const std::vector<Shape>& outputs);

// Numpy broadcast of two symbolic shapes; nullopt-free: an error names both dims on conflict.
Result<SymShape> broadcast_sym(const InferContext& ctx, const SymShape& a, const SymShape& b);

// Product of dims, counting unknown (-1) dims as 1 so FLOP estimates of dynamic shapes stay
// non-negative.
double known_numel(const Shape& shape);

}  // namespace kiln::ir::linalg
