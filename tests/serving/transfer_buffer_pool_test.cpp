#include "serving/transfer_buffer_pool.h"

#include <gtest/gtest.h>

#include <cstring>
#include <thread>
#include <vector>

namespace kiln::serving {
namespace {

constexpr size_t kMiB = size_t{1} << 20;

bool aligned(const void* p) { return reinterpret_cast<uintptr_t>(p) % 64 == 0; }

TEST(TransferBufferPool, ReusesAReleasedBufferForARequestOfAboutItsSize) {
  TransferBufferPool pool(64 * kMiB);
  std::shared_ptr<uint8_t> first = pool.acquire(9'633'792);
  ASSERT_TRUE(first);
  EXPECT_TRUE(aligned(first.get()));
  std::memset(first.get(), 0xab, 9'633'792);  // all of it is writable (ASan checks)
  EXPECT_EQ(pool.pooled_bytes(), 10 * kMiB) << "capacities are whole MiB";
  uint8_t* address = first.get();
  first.reset();
  EXPECT_EQ(pool.free_bytes(), 10 * kMiB);
  std::shared_ptr<uint8_t> second = pool.acquire(9'700'000);
  EXPECT_EQ(second.get(), address) << "the free buffer is handed out again";
  EXPECT_EQ(pool.free_bytes(), 0u);
  EXPECT_EQ(pool.pooled_bytes(), 10 * kMiB) << "no new allocation";
}

TEST(TransferBufferPool, SmallRequestsAndRequestsPastTheCapacityGetHeapBuffers) {
  TransferBufferPool pool(12 * kMiB);
  std::shared_ptr<uint8_t> small = pool.acquire(100);
  ASSERT_TRUE(small);
  EXPECT_TRUE(aligned(small.get()));
  EXPECT_EQ(pool.pooled_bytes(), 0u);
  std::shared_ptr<uint8_t> a = pool.acquire(8 * kMiB);
  std::shared_ptr<uint8_t> b = pool.acquire(8 * kMiB);  // 16 MiB would pass the 12 MiB capacity
  ASSERT_TRUE(a && b);
  EXPECT_NE(a.get(), b.get());
  std::memset(b.get(), 1, 8 * kMiB);
  EXPECT_EQ(pool.pooled_bytes(), 8 * kMiB);
  b.reset();
  EXPECT_EQ(pool.free_bytes(), 0u) << "a heap buffer is freed, not pooled";
}

TEST(TransferBufferPool, MakesRoomByDroppingFreeBuffersOfOtherSizes) {
  TransferBufferPool pool(10 * kMiB);
  pool.acquire(8 * kMiB).reset();
  EXPECT_EQ(pool.free_bytes(), 8 * kMiB);
  // 3 MiB does not take the 8 MiB buffer (it would waste most of it); room is made instead.
  std::shared_ptr<uint8_t> small = pool.acquire(3 * kMiB);
  EXPECT_EQ(pool.free_bytes(), 0u);
  EXPECT_EQ(pool.pooled_bytes(), 3 * kMiB);
}

TEST(TransferBufferPool, BuffersOutliveThePool) {
  std::shared_ptr<uint8_t> kept;
  {
    TransferBufferPool pool(16 * kMiB);
    kept = pool.acquire(2 * kMiB);
  }
  std::memset(kept.get(), 7, 2 * kMiB);
  kept.reset();  // freed, not returned to the destroyed pool (ASan would see a use after free)
}

TEST(TransferBufferPool, ThreadsShareItSafely) {
  TransferBufferPool pool(32 * kMiB);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&pool, t] {
      for (int i = 0; i < 50; ++i) {
        const size_t bytes = (1 + (t + i) % 3) * kMiB;
        std::shared_ptr<uint8_t> buffer = pool.acquire(bytes);
        buffer.get()[0] = static_cast<uint8_t>(i);
        buffer.get()[bytes - 1] = static_cast<uint8_t>(t);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_LE(pool.pooled_bytes(), 32 * kMiB);
  EXPECT_EQ(pool.free_bytes(), pool.pooled_bytes()) << "every buffer came back";
}

}  // namespace
}  // namespace kiln::serving
