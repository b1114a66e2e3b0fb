// GPU metrics in Prometheus text with Triton's names and units, from readings of each GPU.
// Where the readings come from (NVML, a test's fake) is behind GpuReadingSource, so the
// formatting is tested without a GPU. A value a device cannot report (power on some boards) is
// absent and its sample is left out, rather than reported as 0.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kiln::serving {

struct GpuReading {
  std::string uuid;                          // "GPU-...", the gpu_uuid label
  std::optional<double> utilization;         // fraction of the last sample period busy, 0..1
  std::optional<uint64_t> memory_total_bytes;
  std::optional<uint64_t> memory_used_bytes;
  std::optional<double> power_watts;
  std::optional<double> power_limit_watts;
  std::optional<double> energy_joules;       // since the server started
};

class GpuReadingSource {
 public:
  virtual ~GpuReadingSource() = default;
  // One reading per GPU, in device order. Called at every scrape.
  virtual std::vector<GpuReading> read() = 0;
};

// nv_gpu_utilization, nv_gpu_memory_total_bytes, nv_gpu_memory_used_bytes, nv_gpu_power_usage,
// nv_gpu_power_limit (gauges) and nv_energy_consumption (a counter), each labelled gpu_uuid; a
// family no GPU reports is left out.
std::string render_gpu_metrics(const std::vector<GpuReading>& readings);

}  // namespace kiln::serving
