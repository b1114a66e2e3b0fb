// The `channels_last` attribute of FusedConv and the 2-D pools (docs/fused-ops.md): when 1, X, Z
// and Y are [N, H, W, C] and FusedConv's W is [M, kH, kW, C/group]. One decoder shared by the
// schemas, the layout pass and every backend, so they cannot disagree on what a value means.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "core/attributes.h"
#include "kiln/shape.h"
#include "kiln/status.h"

namespace kiln {

constexpr const char* kChannelsLastAttr = "channels_last";
// channels_last is defined for 2-D spatial ops only: rank-4 tensors.
constexpr size_t kChannelsLastRank = 4;
// [N, C, H, W] -> [N, H, W, C] (also the weight's [M, C/g, kH, kW] -> [M, kH, kW, C/g]).
constexpr std::array<int64_t, kChannelsLastRank> kToChannelsLast = {0, 2, 3, 1};
// [N, H, W, C] -> [N, C, H, W].
constexpr std::array<int64_t, kChannelsLastRank> kToChannelsFirst = {0, 3, 1, 2};

// A channels-last [N, H, W, C] shape as [N, C, H, W] (kToChannelsFirst), for libraries that take
// logical NCHW dims plus a memory format.
inline Shape channels_first_shape(const Shape& nhwc) {
  return Shape{nhwc[kToChannelsFirst[0]], nhwc[kToChannelsFirst[1]], nhwc[kToChannelsFirst[2]], nhwc[kToChannelsFirst[3]]};
}

// The attribute as a bool; anything but 0 or 1 is an error (a typo must not silently mean NCHW).
inline Result<bool> decode_channels_last(const Attributes& attrs) {
  const int64_t v = attrs.get_int(kChannelsLastAttr, 0);
  if (v != 0 && v != 1)
    return invalid_argument(std::string("attribute '") + kChannelsLastAttr + "' is " + std::to_string(v) +
                            ", expected 0 or 1");
  return v == 1;
}

}  // namespace kiln
