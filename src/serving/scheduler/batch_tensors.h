// Joining requests' tensors into one batch along dimension 0 and splitting outputs back.
#pragma once

#include <cstdint>
#include <vector>

#include "kiln/status.h"
#include "kiln/tensor.h"

namespace kiln::serving {

// All parts must share dtype and every dimension but the first.
Result<Tensor> concat_batch(const std::vector<const Tensor*>& parts);

// Slices rows [begin, begin + count) of dimension 0 into a new tensor.
Result<Tensor> slice_batch(const Tensor& tensor, int64_t begin, int64_t count);

// Whether two tensors can go into one batch: same dtype, same rank, same dims after the first.
bool batch_compatible(const Tensor& a, const Tensor& b);

}  // namespace kiln::serving
