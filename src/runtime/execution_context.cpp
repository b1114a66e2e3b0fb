#include "runtime/execution_context.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

namespace kiln::runtime {
namespace {

enum EventIndex { kStart, kAfterInputs, kAfterCompute, kAfterOutputs, kEventCount };

// NaN in float32, float16 and bfloat16: an element no kernel wrote shows up in any comparison.
constexpr uint8_t kArenaPoison = 0xff;
constexpr size_t kOutputAlignment = 64;  // as Tensor's own allocations

// An output tensor the copy back overwrites whole, so it skips Tensor's zero fill: for
// BERT-large's 201 MB of hidden states at batch 128 that memset (and its page faults) was tens
// of milliseconds of host time per call.
Tensor uninitialized_output(DType dtype, const Shape& shape) {
  if (dtype == DType::kBytes) return Tensor(dtype, shape);
  const size_t bytes = static_cast<size_t>(shape.numel()) * dtype_size(dtype);
  const size_t rounded = std::max(kOutputAlignment, (bytes + kOutputAlignment - 1) / kOutputAlignment * kOutputAlignment);
  void* data = std::aligned_alloc(kOutputAlignment, rounded);
  if (data == nullptr) throw std::bad_alloc();
  return Tensor::wrap(dtype, shape, std::shared_ptr<void>(data, [](void* p) { std::free(p); }), data);
}

}  // namespace

ExecutionContext::~ExecutionContext() {
  const backends::Device& device = engine_->device();
  if (stream_) (void)device.synchronize(stream_);
  captured_.reset();
  for (void* e : events_) device.destroy_event(e);
  for (void* p : input_staging_) device.release_staging(p);
  for (void* p : output_staging_) device.release_staging(p);
  if (stream_) device.destroy_stream(stream_);
}

Status ExecutionContext::initialize(bool use_graph_capture) {
  const backends::Device& device = engine_->device();
  const plan::Profile& h = *state().proto;
  capture_requested_ = use_graph_capture;
  KILN_ASSIGN_OR_RETURN(stream_, device.create_stream());
  KILN_ASSIGN_OR_RETURN(arena_, backends::DeviceBuffer::allocate(device, h.arena_bytes()));
  KILN_ASSIGN_OR_RETURN(workspace_, backends::DeviceBuffer::allocate(device, state().workspace_bytes));
  KILN_RETURN_IF_ERROR(device.fill(arena_.data(), kArenaPoison, arena_.bytes(), stream_));
  for (int i = 0; i < kEventCount; ++i) {
    KILN_ASSIGN_OR_RETURN(void* e, device.create_event());
    events_.push_back(e);
  }
  if (device.kind() != backends::DeviceKind::kHost) {
    for (const EngineTensor& t : state().inputs) {
      KILN_ASSIGN_OR_RETURN(void* p, device.allocate_staging(t.nbytes));
      input_staging_.push_back(p);
    }
    for (const EngineTensor& t : state().outputs) {
      KILN_ASSIGN_OR_RETURN(void* p, device.allocate_staging(t.nbytes));
      output_staging_.push_back(p);
    }
  }
  auto* arena = static_cast<uint8_t*>(arena_.data());
  auto address = [&](int index) -> void* {
    if (index < 0) return nullptr;
    const plan::Value& v = h.values(index);
    if (v.kind() == plan::Value::CONSTANT) return const_cast<void*>(engine_->constant_address(v));
    return arena + v.arena_offset();
  };
  step_args_.resize(state().steps.size());
  for (size_t s = 0; s < state().steps.size(); ++s) {
    const Engine::Step& step = state().steps[s];
    backends::ExecuteArgs& args = step_args_[s];
    for (int in : step.inputs) args.inputs.push_back(address(in));
    for (int out : step.outputs) args.outputs.push_back(address(out));
    args.workspace = workspace_.data();
    args.stream = stream_;
  }
  return device.synchronize(stream_);
}

void* ExecutionContext::input_address(size_t i) const {
  const plan::Profile& h = *state().proto;
  return static_cast<uint8_t*>(arena_.data()) + h.values(h.inputs(static_cast<int>(i))).arena_offset();
}

void* ExecutionContext::output_address(size_t i) const {
  const plan::Profile& h = *state().proto;
  return static_cast<uint8_t*>(arena_.data()) + h.values(h.outputs(static_cast<int>(i))).arena_offset();
}

Status ExecutionContext::enqueue_steps() {
  const plan::Profile& h = *state().proto;
  for (size_t s = 0; s < state().steps.size(); ++s) {
    const Engine::Step& step = state().steps[s];
    if (!step.kernel) continue;
    Status status = step.kernel->execute(step_args_[s]);
    if (!status.ok()) return status.with_context("step '" + h.steps(static_cast<int>(s)).name() + "'");
  }
  return {};
}

Status ExecutionContext::enqueue() {
  if (capture_requested_ && !capture_attempted_) {
    capture_attempted_ = true;
    KILN_ASSIGN_OR_RETURN(captured_, engine_->device().capture(stream_, [this] { return enqueue_steps(); }));
  }
  if (captured_) return captured_->replay(stream_);
  return enqueue_steps();
}

Status ExecutionContext::check_inputs(const std::vector<std::vector<Tensor>>& inputs, int64_t rows) const {
  const auto& expected = state().inputs;
  if (inputs.size() != expected.size())
    return invalid_argument("the engine takes " + std::to_string(expected.size()) + " inputs, got " +
                            std::to_string(inputs.size()));
  for (size_t i = 0; i < inputs.size(); ++i) {
    const EngineTensor& e = expected[i];
    Shape want = e.shape;
    if (rows >= 0 && want.rank() > 0 && rows <= want[0]) want[0] = rows;
    if (inputs[i].empty()) return invalid_argument("input '" + e.name + "' has no tensor");
    // The groups' joined shape: the first group's with dimension 0 summed over all of them.
    Shape joined = inputs[i].front().shape();
    for (size_t g = 0; g < inputs[i].size(); ++g) {
      const Tensor& group = inputs[i][g];
      if (group.dtype() != e.dtype)
        return invalid_argument("input '" + e.name + "' must be " + std::string(dtype_name(e.dtype)) + ", got " +
                                std::string(dtype_name(group.dtype())));
      if (g == 0) continue;
      bool same_rows_shape = group.rank() == joined.rank() && group.rank() > 0;
      for (size_t d = 1; same_rows_shape && d < group.rank(); ++d) same_rows_shape = group.shape()[d] == joined[d];
      if (!same_rows_shape)
        return invalid_argument("input '" + e.name + "': row groups of shapes " + inputs[i].front().shape().to_string() +
                                " and " + group.shape().to_string() + " cannot be joined");
      joined[0] += group.shape()[0];
    }
    if (joined != want)
      return invalid_argument("input '" + e.name + "' must have shape " + want.to_string() + " (the plan was built for " +
                              e.shape.to_string() + "), got " + joined.to_string());
  }
  return {};
}

Result<std::vector<Tensor>> ExecutionContext::run(const std::vector<Tensor>& inputs, RunTimings* timings) {
  return run_rows(inputs, -1, timings);
}

Result<std::vector<Tensor>> ExecutionContext::run_rows(const std::vector<Tensor>& inputs, int64_t rows, RunTimings* timings) {
  std::vector<std::vector<Tensor>> groups;
  groups.reserve(inputs.size());
  for (const Tensor& t : inputs) groups.push_back({t});
  return run_parts(groups, rows, timings);
}

Result<std::vector<Tensor>> ExecutionContext::run_parts(const std::vector<std::vector<Tensor>>& inputs, int64_t rows,
                                                        RunTimings* timings) {
  KILN_RETURN_IF_ERROR(check_inputs(inputs, rows));
  const backends::Device& device = engine_->device();
  const bool staged = !input_staging_.empty() || !output_staging_.empty();
  KILN_RETURN_IF_ERROR(device.record_event(events_[kStart], stream_));
  for (size_t i = 0; i < inputs.size(); ++i) {
    auto* dst = static_cast<uint8_t*>(input_address(i));
    size_t offset = 0;
    for (const Tensor& group : inputs[i]) {
      const void* src = group.raw_data();
      const size_t bytes = group.nbytes();
      if (bytes == 0) continue;
      // Rows already on the device (CUDA shared memory) are copied device to device; a caller's
      // page-locked buffer (kiln/transfer_tensor.h) goes to the device as it is; pageable rows
      // through the staging buffer.
      const backends::Device::MemoryKind kind = staged ? device.memory_kind(src) : backends::Device::MemoryKind::kPageable;
      if (kind == backends::Device::MemoryKind::kDevice) {
        KILN_RETURN_IF_ERROR(device.copy_on_device(dst + offset, src, bytes, stream_));
        offset += bytes;
        continue;
      }
      if (staged && kind == backends::Device::MemoryKind::kPageable) {
        auto* staging = static_cast<uint8_t*>(input_staging_[i]) + offset;
        std::memcpy(staging, src, bytes);
        src = staging;
      }
      KILN_RETURN_IF_ERROR(device.copy_to_device(dst + offset, src, bytes, stream_));
      offset += bytes;
    }
    // Rows past the caller's are zero: a padded batch computes on defined data.
    if (offset < state().inputs[i].nbytes)
      KILN_RETURN_IF_ERROR(device.fill(dst + offset, 0, state().inputs[i].nbytes - offset, stream_));
  }
  KILN_RETURN_IF_ERROR(device.record_event(events_[kAfterInputs], stream_));
  KILN_RETURN_IF_ERROR(enqueue());
  KILN_RETURN_IF_ERROR(device.record_event(events_[kAfterCompute], stream_));
  std::vector<Tensor> outputs;
  outputs.reserve(state().outputs.size());
  for (size_t i = 0; i < state().outputs.size(); ++i) {
    const EngineTensor& e = state().outputs[i];
    Shape shape = e.shape;
    // Outputs batched like the inputs come back with the caller's rows only.
    if (rows >= 0 && shape.rank() > 0 && !state().inputs.empty() && state().inputs[0].shape.rank() > 0 &&
        shape[0] == state().inputs[0].shape[0] && rows < shape[0])
      shape[0] = rows;
    outputs.push_back(uninitialized_output(e.dtype, shape));
    void* dst = staged ? output_staging_[i] : outputs.back().raw_data();
    if (outputs.back().nbytes() > 0)
      KILN_RETURN_IF_ERROR(device.copy_to_host(dst, output_address(i), outputs.back().nbytes(), stream_));
  }
  KILN_RETURN_IF_ERROR(device.record_event(events_[kAfterOutputs], stream_));
  KILN_RETURN_IF_ERROR(device.synchronize(stream_));
  if (staged)
    for (size_t i = 0; i < outputs.size(); ++i) std::memcpy(outputs[i].raw_data(), output_staging_[i], outputs[i].nbytes());
  if (timings) {
    KILN_ASSIGN_OR_RETURN(timings->h2d_ms, device.elapsed_ms(events_[kStart], events_[kAfterInputs]));
    KILN_ASSIGN_OR_RETURN(timings->compute_ms, device.elapsed_ms(events_[kAfterInputs], events_[kAfterCompute]));
    KILN_ASSIGN_OR_RETURN(timings->d2h_ms, device.elapsed_ms(events_[kAfterCompute], events_[kAfterOutputs]));
  }
  return outputs;
}

Result<std::vector<double>> ExecutionContext::profile_steps(int iterations) {
  const backends::Device& device = engine_->device();
  const size_t n = state().steps.size();
  std::vector<void*> marks;
  auto release = [&] {
    for (void* e : marks) device.destroy_event(e);
  };
  for (size_t i = 0; i <= n; ++i) {
    auto e = device.create_event();
    if (!e.ok()) {
      release();
      return e.status();
    }
    marks.push_back(*e);
  }
  std::vector<double> totals(n, 0.0);
  Status status;
  for (int it = 0; it < iterations && status.ok(); ++it) {
    status = device.record_event(marks[0], stream_);
    for (size_t s = 0; s < n && status.ok(); ++s) {
      const Engine::Step& step = state().steps[s];
      if (step.kernel) status = step.kernel->execute(step_args_[s]);
      if (status.ok()) status = device.record_event(marks[s + 1], stream_);
    }
    if (status.ok()) status = device.synchronize(stream_);
    for (size_t s = 0; s < n && status.ok(); ++s) {
      auto ms = device.elapsed_ms(marks[s], marks[s + 1]);
      if (!ms.ok()) {
        status = ms.status();
        break;
      }
      totals[s] += *ms;
    }
  }
  release();
  KILN_RETURN_IF_ERROR(status);
  for (double& t : totals) t /= iterations > 0 ? iterations : 1;
  return totals;
}

}  // namespace kiln::runtime
