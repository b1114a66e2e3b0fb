#pragma once

#include <array>
#include <cstdint>

#include "kiln/tensor.h"

namespace kiln::passes {

// The data of a rank-4 tensor transposed by `perm` (output dim d is input dim perm[d]), element
// by element as bytes, so any dtype is exact. For weights whose layout a pass changes at build
// time (channels-last convs: [M, C/g, kH, kW] -> [M, kH, kW, C/g], and back for blocked ones).
Tensor permuted_constant(const Tensor& t, const std::array<int64_t, 4>& perm);

}  // namespace kiln::passes
