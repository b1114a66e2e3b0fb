// Latency statistics for `kiln bench`. Percentiles interpolate linearly between the closest
// ranks (numpy's default), so p50 is the median.
#pragma once

#include <utility>
#include <vector>

namespace kiln::cli {

struct LatencyStats {
  double min_ms = 0;
  double mean_ms = 0;
  double p50_ms = 0;
  double p90_ms = 0;
  double p95_ms = 0;
  double p99_ms = 0;
  double max_ms = 0;
};

// `latencies_ms` must not be empty.
LatencyStats compute_latency_stats(std::vector<double> latencies_ms);

// {"min": .., "mean": .., "p50": .., ..., "max": ..} through a rapidjson writer, the object
// `kiln bench` and `kiln perf` export under "latency_ms".
template <class Writer>
void write_latency_object(Writer& w, const LatencyStats& stats) {
  const std::pair<const char*, double> fields[] = {{"min", stats.min_ms}, {"mean", stats.mean_ms}, {"p50", stats.p50_ms},
                                                   {"p90", stats.p90_ms}, {"p95", stats.p95_ms}, {"p99", stats.p99_ms},
                                                   {"max", stats.max_ms}};
  w.StartObject();
  for (const auto& [key, value] : fields) {
    w.Key(key);
    w.Double(value);
  }
  w.EndObject();
}

}  // namespace kiln::cli
