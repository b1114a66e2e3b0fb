// Host tensors in the memory an accelerator copies from fastest. A caller that fills the same
// large input buffer for run after run (the dynamic batcher's join buffer, `kiln bench`'s inputs)
// allocates it here once: the execution context then copies it to the device directly instead of
// through its own page-locked staging buffer, which saves a host copy of every input byte.
#pragma once

#include <cstddef>

#include "kiln/tensor.h"

namespace kiln {

// Page-locked when this machine has a CUDA device (allocation costs milliseconds: allocate once,
// reuse), plain host memory otherwise. The contents are uninitialised on the page-locked path.
Tensor allocate_transfer_tensor(DType dtype, const Shape& shape);

// Page-locks memory the caller already owns and keeps for long (kiln serve's client shared-memory
// regions): tensors viewing it then go to the device without a staging copy. Returns whether it
// was locked (false without a CUDA device, or when the driver refuses); a locked range must be
// unlocked with unlock_transfer_memory before it is unmapped or freed.
bool lock_transfer_memory(void* data, size_t bytes);
void unlock_transfer_memory(void* data);

}  // namespace kiln
