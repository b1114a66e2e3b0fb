// Private to the nn schema files (src/ir/ops/nn*.cpp): per-group registration and the checks
// they share.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ir/op_schema.h"
#include "ir/ops/infer_util.h"

namespace kiln::ir::nn {

void register_conv_schemas(SchemaRegistry& registry);
void register_pool_schemas(SchemaRegistry& registry);
void register_norm_schemas(SchemaRegistry& registry);
void register_pad_schema(SchemaRegistry& registry);

// Conv's inference and cost over inputs X, W, B (also the core of FusedConv's schema).
Status infer_conv(InferContext& ctx);
double conv_flops(const Node& node, const std::vector<Shape>& inputs, const std::vector<Shape>& outputs);

// Error unless input `i` is present and has a floating-point dtype.
Status require_floating(const InferContext& ctx, size_t i, const char* input_name);

// Error unless input `i`, when its rank is known, has rank >= `min_rank` ("N, C, spatial...").
Status require_min_rank(const InferContext& ctx, size_t i, size_t min_rank, const char* input_name);

// Error unless input `i` (when its shape is known) is 1-D of `channels` elements (when known).
Status require_per_channel(const InferContext& ctx, size_t i, const Dim& channels, const char* input_name);

// Product of the dims of `shape`, unknown (negative) dims counting as 1, for FLOP estimates.
double known_numel(const Shape& shape);

}  // namespace kiln::ir::nn
