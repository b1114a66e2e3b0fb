#include "engine/builder/tactic_timer.h"

#include <algorithm>
#include <cstring>
#include <random>
#include <vector>

#include "core/dtype_dispatch.h"

namespace kiln::engine {
namespace {

constexpr int kWarmupRuns = 1;

std::vector<uint8_t> timing_input(const backends::TensorDesc& desc, const Tensor* constant, std::mt19937& rng) {
  const size_t bytes = static_cast<size_t>(desc.shape.numel()) * dtype_size(desc.dtype);
  std::vector<uint8_t> data(bytes, 0);
  if (constant) {
    std::memcpy(data.data(), constant->raw_data(), bytes);
    return data;
  }
  if (!dtype_is_floating(desc.dtype)) return data;
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  visit_dtype(desc.dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (!std::is_same_v<T, bool>) {
      auto* p = reinterpret_cast<T*>(data.data());
      for (int64_t i = 0; i < desc.shape.numel(); ++i) p[i] = convert_element<T>(dist(rng));
    }
  });
  return data;
}

}  // namespace

Result<std::unique_ptr<NodeTimingBench>> NodeTimingBench::create(const backends::Device& device,
                                                                  const backends::NodeDesc& node) {
  std::unique_ptr<NodeTimingBench> bench(new NodeTimingBench(device));
  KILN_ASSIGN_OR_RETURN(bench->stream_, device.create_stream());
  KILN_ASSIGN_OR_RETURN(bench->start_, device.create_event());
  KILN_ASSIGN_OR_RETURN(bench->end_, device.create_event());
  std::mt19937 rng(0x6b696c6e);
  bench->args_.stream = bench->stream_;
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    const backends::TensorDesc& d = node.inputs[i];
    if (!d.present()) {
      bench->args_.inputs.push_back(nullptr);
      continue;
    }
    std::vector<uint8_t> host = timing_input(d, node.constant(i), rng);
    KILN_ASSIGN_OR_RETURN(auto buffer, backends::DeviceBuffer::allocate(device, host.size()));
    KILN_RETURN_IF_ERROR(device.copy_to_device(buffer.data(), host.data(), host.size(), bench->stream_));
    KILN_RETURN_IF_ERROR(device.synchronize(bench->stream_));  // `host` goes out of scope
    bench->args_.inputs.push_back(buffer.data());
    bench->buffers_.push_back(std::move(buffer));
  }
  for (const backends::TensorDesc& d : node.outputs) {
    if (!d.present()) {
      bench->args_.outputs.push_back(nullptr);
      continue;
    }
    KILN_ASSIGN_OR_RETURN(auto buffer, backends::DeviceBuffer::allocate(
                                           device, static_cast<size_t>(d.shape.numel()) * dtype_size(d.dtype)));
    bench->args_.outputs.push_back(buffer.data());
    bench->buffers_.push_back(std::move(buffer));
  }
  return bench;
}

NodeTimingBench::~NodeTimingBench() {
  if (stream_) (void)device_.synchronize(stream_);
  if (start_) device_.destroy_event(start_);
  if (end_) device_.destroy_event(end_);
  if (stream_) device_.destroy_stream(stream_);
}

Result<double> NodeTimingBench::time(const backends::Kernel& kernel, int iterations, double give_up_ms) {
  KILN_ASSIGN_OR_RETURN(auto workspace, backends::DeviceBuffer::allocate(device_, kernel.workspace_bytes()));
  backends::ExecuteArgs args = args_;
  args.workspace = workspace.data();
  for (int i = 0; i < kWarmupRuns; ++i) KILN_RETURN_IF_ERROR(kernel.execute(args));
  std::vector<double> times;
  for (int i = 0; i < std::max(iterations, 1); ++i) {
    KILN_RETURN_IF_ERROR(device_.record_event(start_, stream_));
    KILN_RETURN_IF_ERROR(kernel.execute(args));
    KILN_RETURN_IF_ERROR(device_.record_event(end_, stream_));
    KILN_RETURN_IF_ERROR(device_.synchronize(stream_));
    KILN_ASSIGN_OR_RETURN(double ms, device_.elapsed_ms(start_, end_));
    if (i == 0 && give_up_ms > 0 && ms > give_up_ms) return ms;
    times.push_back(ms);
  }
  // Synchronized above: the workspace is no longer in use when it is freed.
  std::nth_element(times.begin(), times.begin() + static_cast<std::ptrdiff_t>(times.size() / 2), times.end());
  return times[times.size() / 2];
}

}  // namespace kiln::engine
