// Small IR graphs for the builder and runtime tests, with seeded random weights.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "engine/builder/engine_builder.h"
#include "ir/graph.h"
#include "kiln/tensor.h"
#include "runtime/engine.h"

namespace kiln::engine_test {

Tensor random_tensor(DType dtype, const Shape& shape, uint32_t seed);

// x[2,3,8,8] -> Conv(4 filters, 3x3, pad 1) + bias -> Relu -> MaxPool 2x2 -> Flatten -> MatMul
// [64,10] -> Add bias -> Softmax; outputs "probs" and the pre-softmax "logits".
// input_batch: "" for the static batch 2, else a symbolic batch dim of that name.
ir::Graph small_cnn(const std::string& input_batch = "");

// Random feeds for a graph's non-constant inputs.
std::map<std::string, Tensor> random_feeds(const ir::Graph& graph, uint32_t seed);

// Builds `graph`, writes the plan to a temporary file named after `name`, loads it and removes
// the file (the engine maps it first).
Result<std::shared_ptr<runtime::Engine>> build_and_load(ir::Graph graph, const engine::BuildOptions& options,
                                                        const std::string& name);

// max |a - b| / max(1, max |b|), over float32 tensors.
double relative_error(const Tensor& a, const Tensor& b);

}  // namespace kiln::engine_test
