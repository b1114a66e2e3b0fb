// The chart `kiln perf --export-svg` writes: inferences/s against p95 latency, one point per
// concurrency level (labelled), joined in the order measured, with the p95 target as a dashed
// line where one was given. Plain SVG, no scripts or external references.
#pragma once

#include <string>
#include <vector>

namespace kiln::cli::perf {

struct ChartPoint {
  int concurrency = 0;
  double p95_ms = 0;
  double inferences_per_s = 0;
};

// `latency_target_ms` <= 0: no target line.
std::string throughput_latency_svg(const std::vector<ChartPoint>& points, const std::string& title, double latency_target_ms);

}  // namespace kiln::cli::perf
