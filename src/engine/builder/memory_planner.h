// Activation memory planning: every buffer gets an offset in one arena such that buffers alive
// at the same time never overlap. Greedy by size (largest first, lowest free offset that fits
// among the buffers whose lifetimes intersect): simple, and within a few percent of optimal on
// CNN and transformer graphs, where a few large activations dominate.
#pragma once

#include <cstddef>
#include <vector>

namespace kiln::engine {

struct BufferLifetime {
  size_t bytes = 0;
  size_t first_step = 0;  // the step that writes it (0 for engine inputs)
  size_t last_step = 0;   // the last step that reads it (the last step for engine outputs)
};

struct MemoryPlan {
  std::vector<size_t> offsets;  // per buffer, multiples of the alignment
  size_t arena_bytes = 0;       // what the plan needs
  size_t naive_bytes = 0;       // the sum of all buffers (no sharing), for comparison
};

inline constexpr size_t kArenaAlignment = 256;  // cuBLASLt/cuDNN and 16-byte vector loads

MemoryPlan plan_memory(const std::vector<BufferLifetime>& buffers, size_t alignment = kArenaAlignment);

}  // namespace kiln::engine
