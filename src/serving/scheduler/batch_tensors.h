// Joining requests' tensors into one batch along dimension 0 and splitting outputs back.
#pragma once

#include <cstdint>
#include <vector>

#include "kiln/status.h"
#include "kiln/tensor.h"

namespace kiln::serving {

// All parts must share dtype and every dimension but the first. With `reuse` (a worker's buffer
// from its earlier batches), the rows are written into *reuse when it has the dtype, the trailing
// dims and at least the rows needed (the result is then a view of its first rows), and *reuse
// becomes a new buffer otherwise: a batch of ResNet-50 images is 38 MB, above malloc's mmap
// threshold, so a fresh buffer per batch cost page faults on every byte (26 ms a batch on the
// H200 host, more than the engine's run). New buffers are page-locked where a GPU exists
// (kiln/transfer_tensor.h): the engine copies them to the device without its own staging copy.
Result<Tensor> concat_batch(const std::vector<const Tensor*>& parts, Tensor* reuse = nullptr);

// Slices rows [begin, begin + count) of dimension 0 into a new tensor.
Result<Tensor> slice_batch(const Tensor& tensor, int64_t begin, int64_t count);

// Whether two tensors can go into one batch: same dtype, same rank, same dims after the first.
bool batch_compatible(const Tensor& a, const Tensor& b);

}  // namespace kiln::serving
