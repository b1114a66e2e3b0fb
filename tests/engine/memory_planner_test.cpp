// The memory planner on random lifetimes: no two buffers alive at once overlap, offsets are
// aligned, and sharing actually happens.
#include <gtest/gtest.h>

#include <random>

#include "engine/builder/memory_planner.h"

namespace kiln::engine {
namespace {

void expect_valid(const std::vector<BufferLifetime>& buffers, const MemoryPlan& plan, size_t alignment) {
  ASSERT_EQ(plan.offsets.size(), buffers.size());
  for (size_t i = 0; i < buffers.size(); ++i) {
    EXPECT_EQ(plan.offsets[i] % alignment, 0u);
    EXPECT_LE(plan.offsets[i] + buffers[i].bytes, plan.arena_bytes);
    for (size_t j = i + 1; j < buffers.size(); ++j) {
      const bool live_together =
          buffers[i].first_step <= buffers[j].last_step && buffers[j].first_step <= buffers[i].last_step;
      if (!live_together) continue;
      const bool disjoint = plan.offsets[i] + buffers[i].bytes <= plan.offsets[j] ||
                            plan.offsets[j] + buffers[j].bytes <= plan.offsets[i];
      EXPECT_TRUE(disjoint) << "buffers " << i << " and " << j << " overlap while both are alive";
    }
  }
}

TEST(MemoryPlanner, ChainReusesMemory) {
  // a -> b -> c -> d: at most two alive at once, so two slots suffice.
  std::vector<BufferLifetime> chain = {{1000, 0, 1}, {1000, 1, 2}, {1000, 2, 3}, {1000, 3, 4}};
  MemoryPlan plan = plan_memory(chain, 256);
  expect_valid(chain, plan, 256);
  EXPECT_EQ(plan.arena_bytes, 2u * 1024u);
  EXPECT_EQ(plan.naive_bytes, 4u * 1024u);
}

TEST(MemoryPlanner, RandomLifetimesNeverOverlap) {
  std::mt19937 rng(1234);
  for (int round = 0; round < 50; ++round) {
    std::uniform_int_distribution<size_t> bytes(1, 1 << 16), step(0, 40), span(0, 8);
    std::vector<BufferLifetime> buffers(static_cast<size_t>(5 + round));
    for (BufferLifetime& b : buffers) {
      b.bytes = bytes(rng);
      b.first_step = step(rng);
      b.last_step = b.first_step + span(rng);
    }
    MemoryPlan plan = plan_memory(buffers, 64);
    expect_valid(buffers, plan, 64);
    EXPECT_LE(plan.arena_bytes, plan.naive_bytes);
  }
}

TEST(MemoryPlanner, EverythingAliveNeedsTheSum) {
  std::vector<BufferLifetime> all = {{300, 0, 5}, {200, 0, 5}, {100, 0, 5}};
  MemoryPlan plan = plan_memory(all, 256);
  expect_valid(all, plan, 256);
  EXPECT_EQ(plan.arena_bytes, plan.naive_bytes);
}

}  // namespace
}  // namespace kiln::engine
