#include "serving/scheduler/dynamic_batcher.h"

#include <algorithm>
#include <map>

#include "core/thread_name.h"
#include "serving/scheduler/batch_tensors.h"

namespace kiln::serving {
namespace {

uint64_t elapsed_ns(Clock::time_point from, Clock::time_point to) {
  return to > from ? static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(to - from).count()) : 0;
}

uint64_t now_since_epoch_ms() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

// Requests can share a batch when they feed the same inputs with shapes that differ only in dim 0.
bool requests_compatible(const InferenceRequest& a, const InferenceRequest& b) {
  if (a.inputs.size() != b.inputs.size()) return false;
  for (const NamedTensor& input : a.inputs) {
    auto it = std::find_if(b.inputs.begin(), b.inputs.end(), [&](const NamedTensor& t) { return t.name == input.name; });
    if (it == b.inputs.end() || !batch_compatible(input.tensor, it->tensor)) return false;
  }
  return true;
}

bool gone(const InferenceRequest& request) { return request.client_gone && request.client_gone(); }

}  // namespace

BatcherOptions batcher_options_from_config(const ModelConfig& config) {
  BatcherOptions options;
  options.max_batch_size = config.max_batch_size();
  options.instance_count = 0;
  for (const ModelInstanceGroup& group : config.instance_group()) options.instance_count += std::max(group.count(), 1);
  options.instance_count = std::max(options.instance_count, 1);
  if (config.has_dynamic_batching()) {
    const ModelDynamicBatching& batching = config.dynamic_batching();
    options.dynamic_batching = true;
    options.preferred_batch_sizes.assign(batching.preferred_batch_size().begin(), batching.preferred_batch_size().end());
    std::sort(options.preferred_batch_sizes.begin(), options.preferred_batch_sizes.end());
    options.max_queue_delay = std::chrono::microseconds(batching.max_queue_delay_microseconds());
    const ModelQueuePolicy& policy = batching.default_queue_policy();
    options.max_queue_size = policy.max_queue_size();
    options.default_timeout_us = policy.default_timeout_microseconds();
    options.allow_timeout_override = policy.allow_timeout_override();
    options.timeout_action = policy.timeout_action() == ModelQueuePolicy::DELAY ? TimeoutAction::kDelay : TimeoutAction::kReject;
    options.priority_levels = static_cast<uint32_t>(batching.priority_levels());
    options.default_priority_level = static_cast<uint32_t>(batching.default_priority_level());
  }
  return options;
}

DynamicBatcher::DynamicBatcher(std::shared_ptr<const Session> session, BatcherOptions options, std::string model_name,
                               std::string model_version)
    : session_(std::move(session)),
      options_(std::move(options)),
      model_name_(std::move(model_name)),
      model_version_(std::move(model_version)),
      queues_(std::max<uint32_t>(options_.priority_levels, 1)) {
  runner_ = dynamic_cast<const BatchRunner*>(session_.get());
  const int workers = std::max(options_.instance_count, 1);
  for (int i = 0; i < workers; ++i) {
    workers_.emplace_back([this, i] {
      set_current_thread_name("kiln-instance-" + std::to_string(i));
      worker_loop();
    });
  }
}

DynamicBatcher::~DynamicBatcher() { shutdown(); }

size_t DynamicBatcher::level_for(uint32_t priority) const {
  if (queues_.size() == 1) return 0;
  uint32_t level = priority;
  if (level == 0 || level > queues_.size()) level = options_.default_priority_level;
  return level == 0 ? 0 : level - 1;  // priority 1 is the highest
}

void DynamicBatcher::enqueue(std::unique_ptr<InferenceRequest> request) {
  Pending pending;
  pending.request = std::move(request);
  InferenceRequest& r = *pending.request;
  const Clock::time_point now = Clock::now();
  if (r.timestamps.received == Clock::time_point{}) r.timestamps.received = now;
  r.timestamps.queued = now;
  if (options_.max_batch_size > 0 && !r.inputs.empty() && r.inputs.front().tensor.rank() > 0) {
    pending.rows = r.inputs.front().tensor.shape()[0];
  }
  uint64_t timeout_us = options_.default_timeout_us;
  if (options_.allow_timeout_override && r.timeout_us > 0) timeout_us = r.timeout_us;
  if (timeout_us > 0 && options_.timeout_action == TimeoutAction::kReject) {
    pending.deadline = now + std::chrono::microseconds(timeout_us);
  }

  std::unique_lock<std::mutex> lock(mutex_);
  const Status rejection = admission_error_locked(r, now);
  if (rejection.ok()) {
    queues_[level_for(r.priority)].push_back(std::move(pending));
    ++queued_;
    lock.unlock();
    work_available_.notify_one();
    return;
  }
  lock.unlock();
  record_failure(pending);
  complete(pending, rejection, {});
}

Status DynamicBatcher::admission_error_locked(const InferenceRequest& request, Clock::time_point now) const {
  if (stopping_) return unavailable("model '" + model_name_ + "' version " + model_version_ + " is shutting down");
  if (request.client_deadline <= now) {
    return deadline_exceeded("model '" + model_name_ + "': the client's deadline passed before the request was queued");
  }
  if (options_.max_queue_size > 0 && queued_ >= options_.max_queue_size) {
    return resource_exhausted("model '" + model_name_ + "': exceeds maximum queue size " + std::to_string(options_.max_queue_size));
  }
  return {};
}

void DynamicBatcher::shutdown() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_ && workers_.empty()) return;
    stopping_ = true;
  }
  work_available_.notify_all();
  for (std::thread& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
  std::lock_guard<std::mutex> lock(mutex_);
  workers_.clear();
}

ModelStatistics DynamicBatcher::statistics() const {
  std::lock_guard<std::mutex> lock(stats_mutex_);
  return stats_;
}

int64_t DynamicBatcher::queued_rows() const {
  int64_t rows = 0;
  for (const auto& queue : queues_) {
    for (const Pending& p : queue) rows += p.rows;
  }
  return rows;
}

const DynamicBatcher::Pending* DynamicBatcher::oldest() const {
  for (const auto& queue : queues_) {
    if (!queue.empty()) return &queue.front();
  }
  return nullptr;
}

void DynamicBatcher::worker_loop() {
  std::map<std::string, Tensor> joined_inputs;
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    work_available_.wait(lock, [this] { return stopping_ || queued_ > 0; });
    if (queued_ == 0) return;  // stopping with nothing left to drain
    std::vector<Pending> expired;
    std::vector<Pending> batch = take_batch(lock, expired);
    lock.unlock();
    const Clock::time_point now = Clock::now();
    for (Pending& p : expired) {
      record_failure(p);
      Status why = unavailable("Request timeout expired");
      if (p.request->client_deadline <= now) {
        why = deadline_exceeded("model '" + model_name_ + "': the client's deadline passed while the request was queued");
      } else if (gone(*p.request)) {
        why = unavailable("model '" + model_name_ + "': the client went away while the request was queued; not run");
      }
      complete(p, why, {});
    }
    if (!batch.empty()) execute(batch, joined_inputs);
    lock.lock();
  }
}

std::vector<DynamicBatcher::Pending> DynamicBatcher::take_batch(std::unique_lock<std::mutex>& lock,
                                                                std::vector<Pending>& expired) {
  const int64_t target = options_.preferred_batch_sizes.empty() ? options_.max_batch_size
                                                                 : options_.preferred_batch_sizes.back();
  if (batching() && options_.max_queue_delay.count() > 0) {
    // Wait for more requests until the oldest one has waited max_queue_delay.
    while (!stopping_ && queued_ > 0 && queued_rows() < target) {
      const Clock::time_point flush_at = oldest()->request->timestamps.queued + options_.max_queue_delay;
      if (Clock::now() >= flush_at) break;
      work_available_.wait_until(lock, flush_at);
    }
  }
  const Clock::time_point now = Clock::now();
  for (auto& queue : queues_) {
    for (auto it = queue.begin(); it != queue.end();) {
      if (it->deadline <= now || it->request->client_deadline <= now || gone(*it->request)) {
        expired.push_back(std::move(*it));
        it = queue.erase(it);
        --queued_;
      } else {
        ++it;
      }
    }
  }
  std::vector<Pending> batch;
  if (queued_ == 0) return batch;
  const int64_t limit = batching() ? std::max<int64_t>(target, 1) : 0;
  int64_t rows = 0;
  for (auto& queue : queues_) {
    while (!queue.empty()) {
      Pending& next = queue.front();
      if (!batch.empty()) {
        if (!batching() || rows + next.rows > limit ||
            !requests_compatible(*batch.front().request, *next.request)) {
          return batch;
        }
      }
      rows += next.rows;
      batch.push_back(std::move(next));
      queue.pop_front();
      --queued_;
    }
  }
  return batch;
}

void DynamicBatcher::execute(std::vector<Pending>& batch, std::map<std::string, Tensor>& joined_inputs) {
  const Clock::time_point compute_start = Clock::now();
  for (Pending& p : batch) p.request->timestamps.compute_start = compute_start;

  // One request runs on its own tensors; several are joined along dimension 0, by the session's
  // batch runner where it has one and here otherwise.
  std::map<std::string, Tensor> inputs;
  std::map<std::string, std::vector<Tensor>> parts;
  Status status;
  if (batch.size() == 1) {
    for (const NamedTensor& input : batch.front().request->inputs) inputs[input.name] = input.tensor;
  } else if (runner_ != nullptr) {
    for (const Pending& p : batch) {
      for (const NamedTensor& t : p.request->inputs) parts[t.name].push_back(t.tensor);
    }
  } else {
    for (const NamedTensor& input : batch.front().request->inputs) {
      std::vector<const Tensor*> parts;
      for (const Pending& p : batch) {
        for (const NamedTensor& t : p.request->inputs) {
          if (t.name == input.name) parts.push_back(&t.tensor);
        }
      }
      // The session copies its inputs out before run() returns, and the outputs handed to the
      // requests are slices copied out of the run's outputs, so the buffer is free again here.
      Result<Tensor> joined = concat_batch(parts, &joined_inputs[input.name]);
      if (!joined.ok()) {
        status = joined.status();
        break;
      }
      inputs[input.name] = std::move(joined).value();
    }
  }
  const Clock::time_point input_end = Clock::now();
  std::vector<Tensor> outputs;
  if (status.ok()) {
    Result<std::vector<Tensor>> result = parts.empty() ? session_->run(inputs) : runner_->run_parts(parts);
    if (result.ok()) {
      outputs = std::move(result).value();
    } else {
      status = result.status();
    }
  }
  const Clock::time_point infer_end = Clock::now();

  int64_t total_rows = 0;
  for (const Pending& p : batch) total_rows += p.rows;
  const std::vector<TensorInfo>& output_infos = session_->outputs();
  std::vector<std::vector<NamedTensor>> per_request(batch.size());
  if (status.ok()) {
    int64_t row = 0;
    for (size_t r = 0; r < batch.size() && status.ok(); ++r) {
      for (size_t o = 0; o < outputs.size() && o < output_infos.size(); ++o) {
        const std::vector<RequestedOutput>& wanted = batch[r].request->outputs;
        if (!wanted.empty() && std::none_of(wanted.begin(), wanted.end(),
                                            [&](const RequestedOutput& w) { return w.name == output_infos[o].name; })) {
          continue;
        }
        if (batch.size() == 1) {
          per_request[r].push_back({output_infos[o].name, outputs[o]});
          continue;
        }
        if (outputs[o].rank() == 0 || outputs[o].shape()[0] != total_rows) {
          status = internal_error("model '" + model_name_ + "': output '" + output_infos[o].name + "' has shape " +
                                  outputs[o].shape().to_string() + ", which does not keep the batch dimension " +
                                  std::to_string(total_rows));
          break;
        }
        Result<Tensor> slice = slice_batch(outputs[o], row, batch[r].rows);
        if (!slice.ok()) {
          status = slice.status();
          break;
        }
        per_request[r].push_back({output_infos[o].name, std::move(slice).value()});
      }
      row += batch[r].rows;
    }
  }
  const Clock::time_point output_end = Clock::now();

  {
    std::lock_guard<std::mutex> lock(stats_mutex_);
    stats_.last_inference_ms = now_since_epoch_ms();
    if (status.ok()) {
      ++stats_.execution_count;
      stats_.inference_count += static_cast<uint64_t>(total_rows);
      BatchStat& batch_stat = stats_.batch_stats[static_cast<uint64_t>(total_rows)];
      batch_stat.compute_input.add(elapsed_ns(compute_start, input_end));
      batch_stat.compute_infer.add(elapsed_ns(input_end, infer_end));
      batch_stat.compute_output.add(elapsed_ns(infer_end, output_end));
    }
    for (const Pending& p : batch) {
      const uint64_t total = elapsed_ns(p.request->timestamps.queued, output_end);
      if (!status.ok()) {
        stats_.fail.add(total);
        continue;
      }
      stats_.success.add(total);
      stats_.queue.add(elapsed_ns(p.request->timestamps.queued, compute_start));
      stats_.compute_input.add(elapsed_ns(compute_start, input_end));
      stats_.compute_infer.add(elapsed_ns(input_end, infer_end));
      stats_.compute_output.add(elapsed_ns(infer_end, output_end));
    }
  }
  for (size_t r = 0; r < batch.size(); ++r) {
    batch[r].request->timestamps.compute_end = infer_end;
    complete(batch[r], status, status.ok() ? std::move(per_request[r]) : std::vector<NamedTensor>{});
  }
}

void DynamicBatcher::record_failure(const Pending& pending) {
  std::lock_guard<std::mutex> lock(stats_mutex_);
  stats_.fail.add(elapsed_ns(pending.request->timestamps.queued, Clock::now()));
}

void DynamicBatcher::complete(Pending& pending, Status status, std::vector<NamedTensor> outputs) {
  InferenceRequest& request = *pending.request;
  InferenceResponse response;
  response.id = request.id;
  response.model_name = model_name_;
  response.model_version = model_version_;
  response.status = std::move(status);
  response.outputs = std::move(outputs);
  response.requested = request.outputs;
  response.timestamps = request.timestamps;
  if (request.on_complete) request.on_complete(std::move(response));
}

}  // namespace kiln::serving
