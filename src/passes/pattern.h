// Matching helpers shared by the fusion and folding passes: who reads a value, whether an
// intermediate may disappear, constants as doubles, and replacing a matched chain by one node.
//
// The rule every fusion follows: a value inside a matched chain may vanish only when it is not a
// graph output and nothing outside the chain reads it (sole_reader / only_read_by).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "kiln/tensor.h"

namespace kiln::passes {

// The one node reading `value`, or nullptr when it is a graph output or read by zero or several.
ir::Node* sole_reader(const ir::Graph& graph, const ir::Value* value);

// True when `value` is not a graph output and `reader` is its only reader.
bool only_read_by(const ir::Graph& graph, const ir::Value* value, const ir::Node* reader);

// The node producing `value` when it is `op`, else nullptr.
ir::Node* producer_of(const ir::Value* value, OpKind op);

// The data of a fixed constant (see is_fixed_constant) of a numeric dtype, as doubles.
std::optional<std::vector<double>> constant_values(const ir::Graph& graph, const ir::Value* value);

// The single element of a fixed numeric constant with exactly one element.
std::optional<double> scalar_constant(const ir::Graph& graph, const ir::Value* value);

// True when `value` is a fixed one-element constant within `tolerance` of `expected`.
bool is_scalar_near(const ir::Graph& graph, const ir::Value* value, double expected, double tolerance);

// The operand of a binary `node` other than `one` (nullptr if `one` is not an operand).
ir::Value* other_operand(const ir::Node& node, const ir::Value* one);

// The static shape of `value`, when every dim is known.
std::optional<Shape> static_shape(const ir::Value* value);

// True when `a` and `b` have one dtype and the same shape: equal known dims, or unknown dims of
// the same symbol (a residual added elementwise without broadcasting).
bool same_shape(const ir::Value* a, const ir::Value* b);

// The Add that is the only reader of `result` and adds a tensor of exactly its shape (no
// broadcasting either way): a residual a fused op can take as its Z. nullptr otherwise.
ir::Node* residual_add(const ir::Graph& graph, const ir::Value* result);

// A Transpose's attributes: {perm=[...]}.
Attributes perm_attrs(std::span<const int64_t> perm);

// A tensor of `dtype` and `shape` from doubles (rounded to the dtype).
Tensor tensor_from_doubles(DType dtype, const Shape& shape, const std::vector<double>& values);

// Removes `chain` (nodes whose outputs nobody outside the chain reads) and adds one node that
// produces `result` (an output of the chain, so its name and its readers stay). The caller
// re-sorts the graph.
ir::Node* replace_chain(ir::Graph& graph, const std::vector<ir::Node*>& chain, OpKind op, const std::string& name,
                        std::vector<ir::Value*> inputs, ir::Value* result, Attributes attrs = {});

// Re-sorts after a pass's rewrites, drops values nothing refers to any more and infers the
// types of the values the rewrite created.
Status finish_rewrites(ir::Graph& graph);

}  // namespace kiln::passes
