// The repository poller's thread: runs its task repeatedly, and stop() returns promptly even
// with a long interval (shutdown must not wait out a 15 s poll period).
#include "serving/periodic_thread.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace kiln::serving {
namespace {
using namespace std::chrono_literals;

TEST(PeriodicThread, RunsRepeatedly) {
  std::atomic<int> runs{0};
  PeriodicThread thread(5ms, [&] { ++runs; });
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (runs < 3 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
  thread.stop();
  const int after_stop = runs;
  EXPECT_GE(after_stop, 3);
  std::this_thread::sleep_for(30ms);
  EXPECT_EQ(runs, after_stop) << "ran after stop()";
}

TEST(PeriodicThread, StopDoesNotWaitOutTheInterval) {
  std::atomic<int> runs{0};
  const auto started = std::chrono::steady_clock::now();
  {
    PeriodicThread thread(1h, [&] { ++runs; });
  }  // the destructor stops it
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  EXPECT_EQ(runs, 0) << "the first run is one interval after the start";
}

TEST(PeriodicThread, StopIsIdempotent) {
  PeriodicThread thread(1ms, [] {});
  thread.stop();
  thread.stop();
}

}  // namespace
}  // namespace kiln::serving
