#include "large_buffer_reuse.h"

#include <malloc.h>

namespace kiln::cli {

void keep_large_buffers_for_reuse() {
  // 32 MiB is the largest mmap threshold glibc accepts on 64-bit (HEAP_MAX_SIZE / 2); setting it
  // also stops glibc's dynamic threshold from moving. Trimming only beyond 1 GiB of free heap top.
  constexpr int kMmapThreshold = 32 << 20;
  constexpr int kTrimThreshold = 1 << 30;
  (void)mallopt(M_MMAP_THRESHOLD, kMmapThreshold);
  (void)mallopt(M_TRIM_THRESHOLD, kTrimThreshold);
}

}  // namespace kiln::cli
