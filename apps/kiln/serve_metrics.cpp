#include "serve_metrics.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <tuple>

namespace kiln::cli::serve {
namespace {

constexpr uint64_t kNanosPerMicroInt = 1000;

double seconds_between(serving::Clock::time_point from, serving::Clock::time_point to) {
  if (from == serving::Clock::time_point{} || to < from) return -1;
  return std::chrono::duration<double>(to - from).count();
}

std::string escape_label(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

std::string labels(const std::string& model, const std::string& version) {
  return "model=\"" + escape_label(model) + "\",version=\"" + escape_label(version) + "\"";
}

std::string format_double(double value) {
  char text[64];
  std::snprintf(text, sizeof(text), "%.9g", value);
  return text;
}

void family(std::string& out, const char* name, const char* type, const char* help) {
  out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

void sample(std::string& out, const char* name, const std::string& label_text, const std::string& value) {
  out += std::string(name) + "{" + label_text + "} " + value + "\n";
}

int64_t version_number(const std::string& version) {
  int64_t number = 0;
  std::from_chars(version.data(), version.data() + version.size(), number);
  return number;
}

// The version an unversioned request ran on: the highest loaded version of its model.
std::map<std::string, std::string> latest_versions(const std::vector<serving::VersionStatistics>& stats) {
  std::map<std::string, std::string> latest;
  for (const serving::VersionStatistics& s : stats) {
    auto [it, inserted] = latest.emplace(s.name, s.version);
    if (!inserted && version_number(s.version) > version_number(it->second)) it->second = s.version;
  }
  return latest;
}

}  // namespace

void LatencyHistogram::observe(double seconds) {
  const auto bucket = std::lower_bound(kLatencyBucketsSeconds.begin(), kLatencyBucketsSeconds.end(), seconds);
  if (bucket != kLatencyBucketsSeconds.end()) ++buckets_[static_cast<size_t>(bucket - kLatencyBucketsSeconds.begin())];
  ++count_;
  sum_ += seconds;
}

void ServeMetrics::request_started(const std::string& model, const std::string& version) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++pending_[{model, version}];
}

void ServeMetrics::request_finished(const std::string& model, const std::string& requested_version,
                                    const serving::InferenceResponse& response) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto pending = pending_.find({model, requested_version});
  if (pending != pending_.end() && --pending->second <= 0) pending_.erase(pending);
  if (!response.status.ok()) return;
  const serving::RequestTimestamps& t = response.timestamps;
  Latencies& latencies = latencies_[{model, response.model_version}];
  if (double s = seconds_between(t.received, t.sent); s >= 0) latencies.request.observe(s);
  if (double s = seconds_between(t.queued, t.compute_start); s >= 0) latencies.queue.observe(s);
  if (double s = seconds_between(t.compute_start, t.compute_end); s >= 0) latencies.compute.observe(s);
}

std::string ServeMetrics::render(const std::vector<serving::VersionStatistics>& stats) const {
  // Read before taking mutex_: NVML queries take milliseconds, and request threads wait on it.
  const std::string gpu = gpu_source_ ? serving::render_gpu_metrics(gpu_source_->read()) : "";
  std::lock_guard<std::mutex> lock(mutex_);
  std::string out;
  auto counter = [&](const char* name, const char* type, const char* help, auto value_of) {
    family(out, name, type, help);
    for (const serving::VersionStatistics& s : stats) sample(out, name, labels(s.name, s.version), value_of(s));
  };
  auto micros = [](uint64_t ns) { return std::to_string(ns / kNanosPerMicroInt); };
  counter("nv_inference_request_success", "counter", "Number of successful inference requests, all batch sizes",
          [](const serving::VersionStatistics& s) { return std::to_string(s.stats.success.count); });
  counter("nv_inference_request_failure", "counter", "Number of failed inference requests, all batch sizes",
          [](const serving::VersionStatistics& s) { return std::to_string(s.stats.fail.count); });
  counter("nv_inference_count", "counter", "Number of inferences performed (batch sizes summed)",
          [](const serving::VersionStatistics& s) { return std::to_string(s.stats.inference_count); });
  counter("nv_inference_exec_count", "counter", "Number of model executions performed (one per batch)",
          [](const serving::VersionStatistics& s) { return std::to_string(s.stats.execution_count); });
  counter("nv_inference_request_duration_us", "counter", "Cumulative inference request duration in microseconds",
          [&](const serving::VersionStatistics& s) { return micros(s.stats.success.ns + s.stats.fail.ns); });
  counter("nv_inference_queue_duration_us", "counter", "Cumulative inference queuing duration in microseconds",
          [&](const serving::VersionStatistics& s) { return micros(s.stats.queue.ns); });
  counter("nv_inference_compute_input_duration_us", "counter", "Cumulative compute input duration in microseconds",
          [&](const serving::VersionStatistics& s) { return micros(s.stats.compute_input.ns); });
  counter("nv_inference_compute_infer_duration_us", "counter", "Cumulative compute inference duration in microseconds",
          [&](const serving::VersionStatistics& s) { return micros(s.stats.compute_infer.ns); });
  counter("nv_inference_compute_output_duration_us", "counter", "Cumulative compute output duration in microseconds",
          [&](const serving::VersionStatistics& s) { return micros(s.stats.compute_output.ns); });

  const std::map<std::string, std::string> latest = latest_versions(stats);
  counter("nv_inference_pending_request_count", "gauge", "Instantaneous number of pending requests awaiting execution",
          [&](const serving::VersionStatistics& s) {
            int64_t pending = 0;
            if (auto it = pending_.find({s.name, s.version}); it != pending_.end()) pending += it->second;
            if (latest.at(s.name) == s.version) {
              if (auto it = pending_.find({s.name, ""}); it != pending_.end()) pending += it->second;
            }
            return std::to_string(pending);
          });

  using Member = LatencyHistogram Latencies::*;
  const std::array<std::tuple<const char*, const char*, Member>, 3> histograms = {{
      {"kiln_inference_request_duration_seconds", "Successful request latency, received to response sent", &Latencies::request},
      {"kiln_inference_queue_duration_seconds", "Time successful requests waited in the scheduler queue", &Latencies::queue},
      {"kiln_inference_compute_duration_seconds", "Time the model spent computing a successful request's batch",
       &Latencies::compute},
  }};
  for (const auto& [name, help, member] : histograms) {
    family(out, name, "histogram", help);
    const std::string bucket_name = std::string(name) + "_bucket";
    for (const auto& [key, latencies] : latencies_) {
      const LatencyHistogram& h = latencies.*member;
      const std::string base = labels(key.first, key.second);
      uint64_t cumulative = 0;
      for (size_t i = 0; i < kLatencyBucketsSeconds.size(); ++i) {
        cumulative += h.bucket_counts()[i];
        sample(out, bucket_name.c_str(), base + ",le=\"" + format_double(kLatencyBucketsSeconds[i]) + "\"",
               std::to_string(cumulative));
      }
      sample(out, bucket_name.c_str(), base + ",le=\"+Inf\"", std::to_string(h.count()));
      sample(out, (std::string(name) + "_sum").c_str(), base, format_double(h.sum()));
      sample(out, (std::string(name) + "_count").c_str(), base, std::to_string(h.count()));
    }
  }
  return out + gpu;
}

}  // namespace kiln::cli::serve
