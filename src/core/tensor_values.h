// Reading small integer tensors (axes, shapes, indices, pads) whatever their integer type.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kiln/status.h"
#include "kiln/tensor.h"

namespace kiln {

// Every element of an int32 or int64 tensor, of any rank, as int64; an error naming `what`
// for any other dtype.
Result<std::vector<int64_t>> integer_values(const Tensor& t, const std::string& what);

}  // namespace kiln
