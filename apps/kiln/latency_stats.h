// Latency statistics for `kiln bench`. Percentiles interpolate linearly between the closest
// ranks (numpy's default), so p50 is the median.
#pragma once

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

}  // namespace kiln::cli
