// Prometheus metrics for kiln serve: Triton's nv_inference_* counters, derived from the server's
// per-version statistics at scrape time, plus latency histograms and the pending-request gauge,
// which the front end records as requests come and go.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "serving/gpu_metrics.h"
#include "serving/inference.h"
#include "serving/inference_server.h"

namespace kiln::cli::serve {

// Upper bounds (seconds) of the latency histogram buckets; +Inf is implied.
inline constexpr std::array<double, 14> kLatencyBucketsSeconds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                                   0.1,    0.25,  0.5,    1.0,   2.5,   5.0,  10.0};

class LatencyHistogram {
 public:
  void observe(double seconds);
  const std::array<uint64_t, kLatencyBucketsSeconds.size()>& bucket_counts() const { return buckets_; }
  uint64_t count() const { return count_; }
  double sum() const { return sum_; }

 private:
  std::array<uint64_t, kLatencyBucketsSeconds.size()> buckets_{};  // non-cumulative
  uint64_t count_ = 0;
  double sum_ = 0;
};

class ServeMetrics {
 public:
  // A request for (model, requested version; "" for the latest) was accepted by the front end.
  void request_started(const std::string& model, const std::string& version);
  // The same request completed; `response` carries its timestamps and resolved version.
  void request_finished(const std::string& model, const std::string& requested_version, const serving::InferenceResponse& response);
  // GPU metrics (utilization, memory, power, energy) from this source at every scrape; without
  // one there are none. Set before serving starts.
  void set_gpu_source(std::unique_ptr<serving::GpuReadingSource> source) { gpu_source_ = std::move(source); }
  // The Prometheus text exposition format (version 0.0.4).
  std::string render(const std::vector<serving::VersionStatistics>& stats) const;

 private:
  using Key = std::pair<std::string, std::string>;  // model, version
  struct Latencies {
    LatencyHistogram request;  // received to sent
    LatencyHistogram queue;    // queued to compute start
    LatencyHistogram compute;  // compute start to compute end
  };
  std::unique_ptr<serving::GpuReadingSource> gpu_source_;
  mutable std::mutex mutex_;
  std::map<Key, int64_t> pending_;  // by requested version
  std::map<Key, Latencies> latencies_;
};

}  // namespace kiln::cli::serve
