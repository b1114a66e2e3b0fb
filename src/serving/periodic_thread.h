// A thread that runs one task every interval until stopped (the repository poller). stop()
// wakes it at once instead of waiting out the interval, then waits for a run in progress.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace kiln::serving {

class PeriodicThread {
 public:
  // The first run is one interval after construction.
  PeriodicThread(std::chrono::nanoseconds interval, std::function<void()> task);
  ~PeriodicThread();
  PeriodicThread(const PeriodicThread&) = delete;
  PeriodicThread& operator=(const PeriodicThread&) = delete;

  // Idempotent; must not be called from the task itself.
  void stop();

 private:
  void run();

  std::chrono::nanoseconds interval_;
  std::function<void()> task_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;  // last: started once the members it reads exist
};

}  // namespace kiln::serving
