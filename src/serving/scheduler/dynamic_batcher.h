// The scheduler for every model: a bounded queue per priority level, per-request queue
// timeouts, and instance_group-count worker threads that each run one batch at a time. With
// dynamic batching it joins queued requests along dimension 0 up to the preferred batch size (or
// max_batch_size) within max_queue_delay and splits the outputs back; without it (or with
// max_batch_size 0) each request runs on its own.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "kiln/batch_runner.h"
#include "kiln/session.h"
#include "serving/model_config.pb.h"
#include "serving/scheduler/scheduler.h"

namespace kiln::serving {

enum class TimeoutAction { kReject, kDelay };

struct BatcherOptions {
  int max_batch_size = 0;  // 0: the model does not batch; requests run one by one
  bool dynamic_batching = false;
  std::vector<int> preferred_batch_sizes;
  std::chrono::microseconds max_queue_delay{0};
  uint32_t max_queue_size = 0;  // 0: unbounded
  uint64_t default_timeout_us = 0;  // 0: no queue timeout
  bool allow_timeout_override = false;
  TimeoutAction timeout_action = TimeoutAction::kReject;
  uint32_t priority_levels = 0;  // 0: a single level
  uint32_t default_priority_level = 0;
  int instance_count = 1;
};

// The scheduling part of a validated model configuration.
BatcherOptions batcher_options_from_config(const ModelConfig& config);

class DynamicBatcher : public Scheduler {
 public:
  DynamicBatcher(std::shared_ptr<const Session> session, BatcherOptions options, std::string model_name,
                 std::string model_version);
  ~DynamicBatcher() override;
  DynamicBatcher(const DynamicBatcher&) = delete;
  DynamicBatcher& operator=(const DynamicBatcher&) = delete;

  void enqueue(std::unique_ptr<InferenceRequest> request) override;
  void shutdown() override;
  ModelStatistics statistics() const override;

 private:
  struct Pending {
    std::unique_ptr<InferenceRequest> request;
    Clock::time_point deadline = Clock::time_point::max();
    int64_t rows = 1;
  };

  bool batching() const { return options_.dynamic_batching && options_.max_batch_size > 0; }
  size_t level_for(uint32_t priority) const;
  // Why a request cannot be queued now (shutting down, deadline passed, queue full); OK when it can.
  Status admission_error_locked(const InferenceRequest& request, Clock::time_point now) const;
  int64_t queued_rows() const;
  const Pending* oldest() const;
  void worker_loop();
  // Called with the lock held and a non-empty queue; may wait for the queue delay.
  std::vector<Pending> take_batch(std::unique_lock<std::mutex>& lock, std::vector<Pending>& expired);
  // `joined_inputs`: the worker's batch buffers, one per input, reused from batch to batch.
  void execute(std::vector<Pending>& batch, std::map<std::string, Tensor>& joined_inputs);
  void complete(Pending& pending, Status status, std::vector<NamedTensor> outputs);
  void record_failure(const Pending& pending);

  std::shared_ptr<const Session> session_;
  // The session's batch runner when it has one (engines): batches then go to it as the requests'
  // tensors, without a host join (kiln/batch_runner.h).
  const BatchRunner* runner_ = nullptr;
  BatcherOptions options_;
  std::string model_name_;
  std::string model_version_;

  std::mutex mutex_;
  std::condition_variable work_available_;
  std::vector<std::deque<Pending>> queues_;  // index 0: the highest priority
  size_t queued_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> workers_;

  mutable std::mutex stats_mutex_;
  ModelStatistics stats_;
};

}  // namespace kiln::serving
