// Fills a contiguous output from one input read through StridedRows<1>: the body of Expand and
// Slice. Elements move as whole words of their size, so any dtype of 1, 2, 4 or 8 bytes works.
#pragma once

#include <cstddef>

#include "backends/cpu/strided_rows.h"

namespace kiln::backends::cpu {

bool strided_copy_supports(size_t element_bytes);

void strided_copy(const StridedRows<1>& rows, size_t element_bytes, const void* in, void* out, int threads);

}  // namespace kiln::backends::cpu
