// Private to the reduce family's schema files (src/ir/ops/reduce*.cpp): helpers shared by the
// axes-based reductions (reduce.cpp) and the single-axis ops ArgMax/ArgMin/TopK/CumSum
// (reduce_index.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/op_schema.h"

namespace kiln::ir::reduce_detail {

// The single-axis ops of the family; reduce.cpp's register_reduce_schemas calls this.
void register_index_schemas(SchemaRegistry& registry);

// Whether `dtype` holds numbers a reduction can compute on (bool, bytes and fp8 cannot).
bool is_reducible_dtype(DType dtype);

// An error naming the input unless input `i` has a reducible dtype.
Status check_reducible_input(const InferContext& ctx, size_t i);

// `axis` normalized into [0, rank), or an error naming `what` (an attribute or input).
Result<int64_t> normalize_axis_for(const InferContext& ctx, int64_t axis, int64_t rank,
                                   const std::string& what);

// FLOPs of a reduction-like op: one per input element (0 while the input shape is dynamic).
double input_element_flops(const Node& node, const std::vector<Shape>& inputs,
                           const std::vector<Shape>& outputs);

}  // namespace kiln::ir::reduce_detail
