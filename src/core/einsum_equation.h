// Parsing of Einsum equations ("ij,jk->ik", "...ii->...i", implicit "ij,jk"). Lives in core
// because both the Einsum schema (IR) and its reference kernel (backend) need it, and backends
// may not depend on the IR.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "kiln/status.h"

namespace kiln {

// Every subscript letter and every dimension covered by an ellipsis becomes a label (an index
// into [0, num_labels)). Ellipsis dims are aligned from the right across operands, numpy-style,
// so the same broadcast dim of different operands shares a label.
struct EinsumEquation {
  size_t num_labels = 0;
  // Per operand, the label of each of its dims (a label repeated within an operand takes a
  // diagonal).
  std::vector<std::vector<size_t>> inputs;
  // The label of each output dim (explicit "->" part, or the implicit numpy order: ellipsis dims,
  // then letters that occur once, alphabetically).
  std::vector<size_t> output;
};

// Errors (INVALID_ARGUMENT) name the problem: wrong operand count, a term whose letter count does
// not match the operand's rank, a bad character, an output letter absent from the inputs, ...
Result<EinsumEquation> parse_einsum_equation(std::string_view equation, const std::vector<size_t>& input_ranks);

}  // namespace kiln
