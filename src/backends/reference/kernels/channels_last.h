// The reference meaning of the channels_last attribute (docs/fused-ops.md): transpose the
// channels-last inputs to NCHW, run the op's NCHW reference kernel, transpose output 0 back.
// The conv and pool arithmetic therefore exists once, in the NCHW kernels.
#pragma once

#include <initializer_list>

#include "backends/reference/kernel.h"

namespace kiln::reference {

// Runs `nchw` on ctx directly when channels_last is 0; otherwise on the NCHW view of the inputs
// listed in `nhwc_inputs` (X, Z: [N, H, W, C]; FusedConv's W: [M, kH, kW, C/g]), and writes the
// channels-last form of output 0. Rank other than 4 or a second output is an INVALID_ARGUMENT.
// With channel_block 16 (FusedConv only), the inputs in `blocked_inputs` (X, Z) are
// [N, C/16, H, W, 16]: unblocked to NCHW, run, output 0 blocked again; W stays [M, C/g, kH, kW].
Status run_with_layout(KernelContext& ctx, KernelFn nchw, std::initializer_list<size_t> nhwc_inputs,
                       std::initializer_list<size_t> blocked_inputs = {});

}  // namespace kiln::reference
