// Operand checks and the setup record shared by the Conv and ConvTranspose reference kernels:
// both take X [N, C, spatial...], W [., ., kernel...] and an optional bias, and differ only in
// how channels pair up and how each spatial axis maps.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/attributes.h"
#include "core/conv_params.h"
#include "kiln/status.h"
#include "kiln/tensor.h"

namespace kiln::reference::nn {

enum ConvInput : size_t { kX = 0, kW = 1, kB = 2 };

struct ConvSetup {
  int64_t batch = 0;
  int64_t in_channels = 0;
  int64_t out_channels = 0;  // filled by the caller: Conv and ConvTranspose derive it differently
  int64_t group = 1;
  std::vector<AxisGeometry> axes;
  Shape output_shape;
};

// Checks X's rank, W's rank and dtype against X, and `group`; fills batch, in_channels, group.
Result<ConvSetup> begin_conv_setup(const Tensor& x, const Tensor& w, const Attributes& attrs);
// The optional bias must match X's dtype and hold one value per output channel.
Status check_conv_bias(const Tensor* b, const Tensor& x, int64_t out_channels);
// kernel_shape (attribute, else W's trailing dims) decoded into the window attributes.
Result<WindowAttrs> decode_conv_window(const Tensor& x, const Tensor& w, const Attributes& attrs);

}  // namespace kiln::reference::nn
