// Host tensors in the memory an accelerator copies from fastest. A caller that fills the same
// large input buffer for run after run (the dynamic batcher's join buffer, `kiln bench`'s inputs)
// allocates it here once: the execution context then copies it to the device directly instead of
// through its own page-locked staging buffer, which saves a host copy of every input byte.
#pragma once

#include "kiln/tensor.h"

namespace kiln {

// Page-locked when this machine has a CUDA device (allocation costs milliseconds: allocate once,
// reuse), plain host memory otherwise. The contents are uninitialised on the page-locked path.
Tensor allocate_transfer_tensor(DType dtype, const Shape& shape);

}  // namespace kiln
