// Shape inference for the channels_last form of FusedConv and the 2-D pools: the op's NCHW
// inference runs on a scratch twin node whose inputs are viewed channels-first, and its outputs
// are permuted back. One definition of each op's shape rules, whatever the layout.
#pragma once

#include <initializer_list>

#include "ir/op_schema.h"

namespace kiln::ir {

// When the node's channels_last attribute is 1: inputs listed in `nhwc_inputs` are [N, H, W, C]
// (or FusedConv's W [M, kH, kW, C/g]), viewed as [N, C, H, W] for `nchw_infer`; every output is
// permuted to channels-last. Otherwise `nchw_infer` runs on the node itself. Rejects
// channels_last on anything but rank-4 (2-D spatial) inputs.
// When the channel_block attribute is 16 (core/channel_block.h), the inputs in `blocked_inputs`
// are [N, C/16, H, W, 16], viewed as [N, C, H, W], and output 0 comes back blocked; ops that
// pass no `blocked_inputs` reject the attribute.
Status infer_with_layout(InferContext& ctx, InferFn nchw_infer, std::initializer_list<size_t> nhwc_inputs,
                         std::initializer_list<size_t> blocked_inputs = {});

}  // namespace kiln::ir
