#include "engine/builder/memory_planner.h"

#include <algorithm>
#include <numeric>

namespace kiln::engine {
namespace {

size_t round_up(size_t v, size_t alignment) { return (v + alignment - 1) / alignment * alignment; }

bool lifetimes_overlap(const BufferLifetime& a, const BufferLifetime& b) {
  return a.first_step <= b.last_step && b.first_step <= a.last_step;
}

}  // namespace

MemoryPlan plan_memory(const std::vector<BufferLifetime>& buffers, size_t alignment) {
  MemoryPlan plan;
  plan.offsets.assign(buffers.size(), 0);
  std::vector<size_t> order(buffers.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return buffers[a].bytes > buffers[b].bytes; });

  struct Placed {
    size_t offset;
    size_t end;
    size_t index;
  };
  std::vector<Placed> placed;  // kept sorted by offset
  for (size_t index : order) {
    const BufferLifetime& buffer = buffers[index];
    const size_t size = round_up(std::max<size_t>(buffer.bytes, 1), alignment);
    plan.naive_bytes += round_up(buffer.bytes, alignment);
    // Walk the live neighbours in address order and take the first gap that fits.
    size_t candidate = 0;
    for (const Placed& p : placed) {
      if (!lifetimes_overlap(buffers[p.index], buffer)) continue;
      if (p.offset >= candidate + size) break;
      candidate = std::max(candidate, p.end);
    }
    plan.offsets[index] = candidate;
    plan.arena_bytes = std::max(plan.arena_bytes, candidate + size);
    auto at = std::upper_bound(placed.begin(), placed.end(), candidate,
                               [](size_t offset, const Placed& p) { return offset < p.offset; });
    placed.insert(at, Placed{candidate, candidate + size, index});
  }
  return plan;
}

}  // namespace kiln::engine
