// ExecutionContext: one stream of execution over a shared Engine. Owns its activation arena,
// its kernels' workspace, its stream and its page-locked staging buffers; every buffer address
// is fixed at creation, so enqueue() computes and allocates nothing, and on CUDA the whole step
// list is captured once into a CUDA graph and replayed. Not thread-safe: one thread at a time
// per context; use several contexts for concurrency.
#pragma once

#include <memory>
#include <vector>

#include "backends/device.h"
#include "kiln/tensor.h"
#include "runtime/engine.h"

namespace kiln::runtime {

// The split trtexec prints: host-to-device copy, compute, device-to-host copy (device events).
struct RunTimings {
  double h2d_ms = 0;
  double compute_ms = 0;
  double d2h_ms = 0;
};

class ExecutionContext {
 public:
  ~ExecutionContext();
  ExecutionContext(const ExecutionContext&) = delete;
  ExecutionContext& operator=(const ExecutionContext&) = delete;

  const Engine& engine() const { return *engine_; }
  size_t profile() const { return profile_; }
  void* stream() const { return stream_; }
  // Device addresses of the engine's inputs and outputs inside this context's arena.
  void* input_address(size_t i) const;
  void* output_address(size_t i) const;

  // Launches every step on the stream (a captured graph replay when capture is on and the
  // device supports it). Asynchronous; the caller synchronizes.
  Status enqueue();
  // Host tensors in (engine input order, exact dtypes and shapes), host tensors out: staged
  // copies, enqueue, wait. timings (optional) gets the H2D / compute / D2H split.
  Result<std::vector<Tensor>> run(const std::vector<Tensor>& inputs, RunTimings* timings = nullptr);
  // run() for a batch smaller than the profile's: every input has `rows` rows in dimension 0
  // (at most the profile's), the rows after them are zero, and outputs whose dimension 0 is the
  // profile's batch come back with `rows` rows. Pads without a padded host copy.
  Result<std::vector<Tensor>> run_rows(const std::vector<Tensor>& inputs, int64_t rows, RunTimings* timings = nullptr);
  // run_rows() with each input given as consecutive row groups (a dynamic batch's requests):
  // each group is copied to its rows in the arena directly (page-locked groups without a host
  // copy; pageable ones through the staging buffer, each group's transfer overlapping the next
  // group's staging copy). `rows` is the groups' total, at most the profile's batch.
  Result<std::vector<Tensor>> run_parts(const std::vector<std::vector<Tensor>>& inputs, int64_t rows,
                                        RunTimings* timings = nullptr);
  // Per-step device time in milliseconds, averaged over `iterations` runs of the step list
  // without graph capture (events between steps).
  Result<std::vector<double>> profile_steps(int iterations);

 private:
  friend class Engine;
  ExecutionContext(std::shared_ptr<const Engine> engine, size_t profile) : engine_(std::move(engine)), profile_(profile) {}
  const Engine::ProfileState& state() const { return engine_->profiles_[profile_]; }
  Status initialize(bool use_graph_capture);
  Status enqueue_steps();
  Status check_inputs(const std::vector<std::vector<Tensor>>& inputs, int64_t rows) const;

  std::shared_ptr<const Engine> engine_;
  size_t profile_ = 0;
  backends::DeviceBuffer arena_;
  backends::DeviceBuffer workspace_;
  void* stream_ = nullptr;
  std::vector<void*> events_;                       // start, after H2D, after compute, after D2H
  std::vector<void*> input_staging_;
  std::vector<void*> output_staging_;
  std::vector<backends::ExecuteArgs> step_args_;    // per step, addresses fixed at creation
  std::unique_ptr<backends::CapturedWork> captured_;
  bool capture_requested_ = false;
  bool capture_attempted_ = false;
};

}  // namespace kiln::runtime
