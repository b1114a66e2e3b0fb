// The three spellings of an element type in serving: kiln's DType, the model configuration's
// TYPE_* enum and the KServe v2 wire name ("FP32", "BYTES").
#pragma once

#include <optional>
#include <string_view>

#include "kiln/dtype.h"
#include "serving/model_config.pb.h"

namespace kiln::serving {

std::optional<DType> dtype_from_config_type(DataType type);
// TYPE_INVALID when the DType has no configuration spelling (e.g. float8).
DataType config_type_from_dtype(DType dtype);
// "" when the DType has no wire spelling.
std::string_view wire_name(DType dtype);
std::optional<DType> dtype_from_wire_name(std::string_view name);

}  // namespace kiln::serving
