// The `channel_block` attribute of FusedConv (docs/fused-ops.md): when 16, X, Z and Y are
// [N, C/16, H, W, 16] (oneDNN's nChw16c: sixteen channels of one pixel side by side) and W is
// [M, C, kH, kW]. One decoder shared by the schema, the layout pass and every backend.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "core/attributes.h"
#include "kiln/shape.h"
#include "kiln/status.h"

namespace kiln {

constexpr const char* kChannelBlockAttr = "channel_block";
// The one block size: a 16-float block is one AVX-512 register and one 64-byte cache line.
constexpr int64_t kChannelBlock = 16;
constexpr size_t kChannelBlockedRank = 5;
// [N, C/b, b, H, W] -> [N, C/b, H, W, b] (NCHW reshaped to split C, then the block moved last).
constexpr std::array<int64_t, kChannelBlockedRank> kToChannelBlocked = {0, 1, 3, 4, 2};
// [N, C/b, H, W, b] -> [N, C/b, b, H, W].
constexpr std::array<int64_t, kChannelBlockedRank> kFromChannelBlocked = {0, 1, 4, 2, 3};

// 0 (no blocking) or kChannelBlock; anything else is an error.
inline Result<int64_t> decode_channel_block(const Attributes& attrs) {
  const int64_t v = attrs.get_int(kChannelBlockAttr, 0);
  if (v != 0 && v != kChannelBlock)
    return invalid_argument(std::string("attribute '") + kChannelBlockAttr + "' is " + std::to_string(v) +
                            ", expected 0 or " + std::to_string(kChannelBlock));
  return v;
}

// [N, C/b, H, W, b] as the logical [N, C, H, W].
inline Shape channel_unblocked_shape(const Shape& blocked) {
  return Shape{blocked[0], blocked[1] * blocked[4], blocked[2], blocked[3]};
}

}  // namespace kiln
