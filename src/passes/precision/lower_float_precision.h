// Lowers a float32 graph to float16 or bfloat16 storage: every float32 value inside the graph
// (activations and weights) becomes the target type, with Casts at the float32 inputs and
// outputs so the engine's interface stays what the model declares, or, with `interface` set,
// the float32 inputs and outputs themselves take the target type (TensorRT's fp16 I/O formats:
// clients send and receive half the bytes, and the engine saves the Casts). Kernels that need range or
// precision (LayerNorm, Softmax, reductions, matmul accumulation) accumulate in float32 inside;
// this pass only decides storage.
#pragma once

#include "ir/graph.h"
#include "kiln/dtype.h"
#include "kiln/status.h"

namespace kiln::passes {

enum class FloatInterface { kKeepFloat32, kLower };

// target: kFloat16 or kBFloat16. Returns whether anything changed.
Result<bool> lower_float_precision(ir::Graph& graph, DType target,
                                   FloatInterface interface = FloatInterface::kKeepFloat32);

}  // namespace kiln::passes
