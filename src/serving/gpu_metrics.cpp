#include "serving/gpu_metrics.h"

#include <cstdio>
#include <functional>

namespace kiln::serving {
namespace {

std::string escape_label(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    if (c == '\\' || c == '"') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

std::string format_number(double value) {
  char text[64];
  std::snprintf(text, sizeof(text), "%.15g", value);  // 15 digits: byte counts up to 1e15 print exactly
  return text;
}

struct Family {
  const char* name;
  const char* type;
  const char* help;
  std::function<std::optional<double>(const GpuReading&)> value_of;
};

template <class T>
std::optional<double> as_double(const std::optional<T>& value) {
  if (!value) return std::nullopt;
  return static_cast<double>(*value);
}

}  // namespace

std::string render_gpu_metrics(const std::vector<GpuReading>& readings) {
  const Family families[] = {
      {"nv_gpu_utilization", "gauge", "GPU utilization rate [0.0 - 1.0)", [](const GpuReading& r) { return r.utilization; }},
      {"nv_gpu_memory_total_bytes", "gauge", "GPU total memory, in bytes",
       [](const GpuReading& r) { return as_double(r.memory_total_bytes); }},
      {"nv_gpu_memory_used_bytes", "gauge", "GPU used memory, in bytes",
       [](const GpuReading& r) { return as_double(r.memory_used_bytes); }},
      {"nv_gpu_power_usage", "gauge", "GPU power usage in watts", [](const GpuReading& r) { return r.power_watts; }},
      {"nv_gpu_power_limit", "gauge", "GPU power management limit in watts",
       [](const GpuReading& r) { return r.power_limit_watts; }},
      {"nv_energy_consumption", "counter", "GPU energy consumption in joules since the server started",
       [](const GpuReading& r) { return r.energy_joules; }},
  };
  std::string out;
  for (const Family& family : families) {
    std::string samples;
    for (const GpuReading& reading : readings) {
      if (std::optional<double> value = family.value_of(reading)) {
        samples += std::string(family.name) + "{gpu_uuid=\"" + escape_label(reading.uuid) + "\"} " + format_number(*value) + "\n";
      }
    }
    if (samples.empty()) continue;
    out += std::string("# HELP ") + family.name + " " + family.help + "\n# TYPE " + family.name + " " + family.type + "\n";
    out += samples;
  }
  return out;
}

}  // namespace kiln::serving
