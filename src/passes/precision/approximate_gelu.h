// Trades exact (erf) GELU for its tanh approximation, 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715
// x^3))), whose largest deviation is 4.7e-4 (at x = -2.7): below float16's rounding of the
// values around it, and what lets cuBLASLt apply the activation in the GEMM epilogue instead of
// a separate pass over the [tokens, 4 hidden] FFN activations (TensorRT's BERT kernels make the
// same trade). Opt-in (`kiln build --approximate-gelu`): it changes results.
#pragma once

#include "ir/graph.h"
#include "kiln/status.h"

namespace kiln::passes {

// Gelu nodes with approximate="none" get approximate="tanh"; FusedMatMul and FusedConv with
// activation "Gelu" get "GeluTanh". Returns whether anything changed.
Result<bool> approximate_gelu(ir::Graph& graph);

}  // namespace kiln::passes
