#pragma once

#include "ir/graph.h"
#include "kiln/status.h"

namespace kiln::passes {

// Runs after the channels-last pass, for the CPU backend (oneDNN's fastest FP32 convolutions,
// and its Winograd ones, work on 16-channel blocks). Every channels-last FusedConv with
// group 1, static shapes and input and output channels that are multiples of 16 becomes
// {channel_block=16}: X and Z go NHWC -> [N, H, W, C/16, 16] (Reshape) -> [N, C/16, H, W, 16]
// (Transpose), W's data goes back to [M, C, kH, kW], and Y comes back to NHWC the same way
// in reverse. Reshape and transpose cancellation then remove every conversion between two
// blocked convs, so a ResNet's bottleneck stages run blocked end to end.
Result<bool> convert_to_channel_blocked(ir::Graph& graph);

}  // namespace kiln::passes
