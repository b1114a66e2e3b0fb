// Private to the fused-op reference kernels (fused_conv.cpp, fused_matmul.cpp,
// fused_attention.cpp). The fused ops are defined as compositions of existing ops
// (docs/fused-ops.md), so their reference kernels run exactly those ops' reference kernels in
// sequence: the meaning of a fused op can never drift from the chain a pass replaced.
#pragma once

#include <vector>

#include "backends/reference/kernel.h"
#include "core/fused_activation.h"

namespace kiln::reference::fused {

void register_fused_conv_kernel(KernelTable& table);
void register_fused_matmul_kernel(KernelTable& table);
void register_attention_kernel(KernelTable& table);

// Runs the reference kernel of `op` on `inputs` (nullptr: absent) and returns its output 0.
Result<Tensor> run_kernel(OpKind op, std::vector<const Tensor*> inputs, const Attributes& attrs = {});

// act(x) for the decoded `activation` attribute (x itself for kNone).
Result<Tensor> apply_activation(const FusedActivationSpec& spec, Tensor x);

// Reads the `activation` attribute, prefixing errors with the op's name.
Result<FusedActivationSpec> activation_of(const KernelContext& ctx);

}  // namespace kiln::reference::fused
