// ScaledDotProductAttention (docs/fused-ops.md) arrives with the fused ops; until ops.def lists
// it there is nothing to register.
#include "backends/cpu/kernel_table.h"

namespace kiln::backends::cpu {

void register_attention_kernels(CpuKernelTable&) {}

}  // namespace kiln::backends::cpu
