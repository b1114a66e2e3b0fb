// Private helpers of the "tensor" family schemas (shape and data movement ops). The schemas
// use constant inputs (shapes, axes, starts, repeats) when present to infer exact shapes, pass
// symbolic dims through, and fall back to unknown dims or an unknown rank otherwise; only
// contradictions between known facts are errors.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ir/op_schema.h"
#include "ir/ops/infer_util.h"

namespace kiln::ir::tensor_schemas {

// Data movement costs no arithmetic.
double zero_flops(const Node& node, const std::vector<Shape>& inputs, const std::vector<Shape>& outputs);

// `axis` in [-rank, rank) normalised, or an error naming `what`.
Result<size_t> resolve_axis(const InferContext& ctx, int64_t axis, size_t rank, const std::string& what);

// The product of dims [begin, end): known when all are known; the single unknown dim itself
// (symbol kept) when every other dim is 1; unknown otherwise. An error when the known dims'
// product overflows int64.
Result<Dim> product_dim(const InferContext& ctx, const SymShape& shape, size_t begin, size_t end);

// Constant int contents of optional input i: nullopt when absent; `*present` tells whether the
// input exists, `*constant` whether its data is known.
struct OptionalInts {
  bool present = false;
  bool constant = false;
  std::vector<int64_t> values;
};
OptionalInts optional_constant_ints(const InferContext& ctx, size_t i);

// The element count of a 1-D input when its length is known (for shape-like inputs that are
// not constant: the output rank is still known).
std::optional<int64_t> known_length(const InferContext& ctx, size_t i);

// Shape inference runs before the verifier checks arity, so each schema's inference is wrapped
// to report a missing required input instead of reading it.
template <size_t kRequiredInputs, InferFn kInfer>
Status with_required_inputs(InferContext& ctx) {
  for (size_t i = 0; i < kRequiredInputs; ++i)
    if (!ctx.has_input(i)) return ctx.error("required input " + std::to_string(i) + " is missing");
  return kInfer(ctx);
}

// Registration per group; register_tensor_schemas calls them all.
void register_shape_schemas(SchemaRegistry& registry);    // Reshape, Flatten, Squeeze, Unsqueeze, Shape, Size
void register_layout_schemas(SchemaRegistry& registry);   // Transpose, Concat, Split, Slice, Expand, Tile
void register_index_schemas(SchemaRegistry& registry);    // Gather*, Scatter*, Compress, NonZero
void register_create_schemas(SchemaRegistry& registry);   // Constant, ConstantOfShape, Range, OneHot, EyeLike, Trilu

}  // namespace kiln::ir::tensor_schemas
