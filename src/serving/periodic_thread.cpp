#include "serving/periodic_thread.h"

namespace kiln::serving {

PeriodicThread::PeriodicThread(std::chrono::nanoseconds interval, std::function<void()> task)
    : interval_(interval), task_(std::move(task)), thread_([this] { run(); }) {}

PeriodicThread::~PeriodicThread() { stop(); }

void PeriodicThread::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void PeriodicThread::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!wake_.wait_for(lock, interval_, [this] { return stopping_; })) {
    lock.unlock();  // stop() must be able to take the lock while the task runs
    task_();
    lock.lock();
  }
}

}  // namespace kiln::serving
