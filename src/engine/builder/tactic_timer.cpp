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

// Releases what time_kernel allocated on every return path.
struct TimingResources {
  const backends::Device& device;
  std::vector<backends::DeviceBuffer> buffers;
  void* stream = nullptr;
  void* start = nullptr;
  void* end = nullptr;
  ~TimingResources() {
    if (stream) (void)device.synchronize(stream);
    if (start) device.destroy_event(start);
    if (end) device.destroy_event(end);
    if (stream) device.destroy_stream(stream);
  }
};

}  // namespace

Result<double> time_kernel(const backends::Device& device, const backends::Kernel& kernel,
                           const backends::NodeDesc& node, int iterations, double give_up_ms) {
  TimingResources res{device, {}};
  KILN_ASSIGN_OR_RETURN(res.stream, device.create_stream());
  KILN_ASSIGN_OR_RETURN(res.start, device.create_event());
  KILN_ASSIGN_OR_RETURN(res.end, device.create_event());
  std::mt19937 rng(0x6b696c6e);
  backends::ExecuteArgs args;
  args.stream = res.stream;
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    const backends::TensorDesc& d = node.inputs[i];
    if (!d.present()) {
      args.inputs.push_back(nullptr);
      continue;
    }
    std::vector<uint8_t> host = timing_input(d, node.constant(i), rng);
    KILN_ASSIGN_OR_RETURN(auto buffer, backends::DeviceBuffer::allocate(device, host.size()));
    KILN_RETURN_IF_ERROR(device.copy_to_device(buffer.data(), host.data(), host.size(), res.stream));
    KILN_RETURN_IF_ERROR(device.synchronize(res.stream));
    args.inputs.push_back(buffer.data());
    res.buffers.push_back(std::move(buffer));
  }
  for (const backends::TensorDesc& d : node.outputs) {
    if (!d.present()) {
      args.outputs.push_back(nullptr);
      continue;
    }
    KILN_ASSIGN_OR_RETURN(auto buffer, backends::DeviceBuffer::allocate(
                                           device, static_cast<size_t>(d.shape.numel()) * dtype_size(d.dtype)));
    args.outputs.push_back(buffer.data());
    res.buffers.push_back(std::move(buffer));
  }
  KILN_ASSIGN_OR_RETURN(auto workspace, backends::DeviceBuffer::allocate(device, kernel.workspace_bytes()));
  args.workspace = workspace.data();

  for (int i = 0; i < kWarmupRuns; ++i) KILN_RETURN_IF_ERROR(kernel.execute(args));
  std::vector<double> times;
  for (int i = 0; i < std::max(iterations, 1); ++i) {
    KILN_RETURN_IF_ERROR(device.record_event(res.start, res.stream));
    KILN_RETURN_IF_ERROR(kernel.execute(args));
    KILN_RETURN_IF_ERROR(device.record_event(res.end, res.stream));
    KILN_RETURN_IF_ERROR(device.synchronize(res.stream));
    KILN_ASSIGN_OR_RETURN(double ms, device.elapsed_ms(res.start, res.end));
    if (i == 0 && give_up_ms > 0 && ms > give_up_ms) return ms;
    times.push_back(ms);
  }
  std::nth_element(times.begin(), times.begin() + static_cast<std::ptrdiff_t>(times.size() / 2), times.end());
  return times[times.size() / 2];
}

}  // namespace kiln::engine
