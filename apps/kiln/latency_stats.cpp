#include "latency_stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace kiln::cli {
namespace {

constexpr double kP50 = 0.50;
constexpr double kP90 = 0.90;
constexpr double kP95 = 0.95;
constexpr double kP99 = 0.99;

double percentile(const std::vector<double>& sorted, double q) {
  const double rank = q * static_cast<double>(sorted.size() - 1);
  const auto lower = static_cast<size_t>(std::floor(rank));
  const size_t upper = std::min(lower + 1, sorted.size() - 1);
  const double fraction = rank - static_cast<double>(lower);
  return sorted[lower] + (sorted[upper] - sorted[lower]) * fraction;
}

}  // namespace

LatencyStats compute_latency_stats(std::vector<double> latencies_ms) {
  LatencyStats stats;
  if (latencies_ms.empty()) return stats;
  std::sort(latencies_ms.begin(), latencies_ms.end());
  stats.min_ms = latencies_ms.front();
  stats.max_ms = latencies_ms.back();
  stats.mean_ms = std::accumulate(latencies_ms.begin(), latencies_ms.end(), 0.0) / static_cast<double>(latencies_ms.size());
  stats.p50_ms = percentile(latencies_ms, kP50);
  stats.p90_ms = percentile(latencies_ms, kP90);
  stats.p95_ms = percentile(latencies_ms, kP95);
  stats.p99_ms = percentile(latencies_ms, kP99);
  return stats;
}

}  // namespace kiln::cli
