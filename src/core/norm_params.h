// LayerNormalization attribute decoding shared by its schema and its reference kernel: which
// axes are normalized and the dtype of the optional Mean / InvStdDev outputs.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/attributes.h"
#include "kiln/dtype.h"
#include "kiln/status.h"

namespace kiln {

// The first normalized axis (attribute 'axis', default -1) for an input of `rank`.
Result<size_t> layer_norm_first_axis(const Attributes& attrs, size_t rank);

// dtype of Mean / InvStdDev from 'stash_type' (an ONNX TensorProto element type, default float).
Result<DType> layer_norm_stash_dtype(const Attributes& attrs);

}  // namespace kiln
