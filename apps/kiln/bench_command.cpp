// kiln bench MODEL [--batch N] [--shapes ...] [--iterations N] [--duration S] [--warmup S]
//                  [--threads N] [--export-json FILE]
// trtexec-style measurement: warm up for S seconds, then run at least N iterations AND at least
// S seconds with N threads calling Session::run concurrently; report throughput and latency.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <mutex>
#include <thread>

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <unistd.h>

#include "cli_common.h"
#include "commands.h"
#include "engine_options.h"
#include "kiln/session.h"
#include "latency_stats.h"
#include "model_inputs.h"

namespace kiln::cli {
namespace {

using Clock = std::chrono::steady_clock;

// Defaults follow trtexec.
constexpr int64_t kDefaultIterations = 10;
constexpr double kDefaultDurationS = 3.0;
constexpr double kDefaultWarmupS = 0.2;
constexpr auto kProgressInterval = std::chrono::seconds(1);
constexpr auto kPollInterval = std::chrono::milliseconds(20);
constexpr int kMaxThreads = 1024;

struct BenchOptions {
  std::string model;
  std::optional<int64_t> batch;
  std::vector<std::string> shapes;
  int64_t iterations = kDefaultIterations;
  double duration_s = kDefaultDurationS;
  double warmup_s = kDefaultWarmupS;
  int threads = 1;
  std::string export_json;
  uint64_t seed = 0;
  EngineOptions engine;
  bool dump_profile = false;
};

struct PhaseResult {
  std::vector<double> latencies_ms;
  double elapsed_s = 0;
  RunTimings timing_sums;  // summed over every inference
};

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Runs `threads` workers until at least `min_iterations` inferences and `min_seconds` have
// passed. The first failing inference stops every worker and is returned.
Result<PhaseResult> run_phase(const Session& session, const std::map<std::string, Tensor>& feeds, int threads,
                              int64_t min_iterations, double min_seconds, const char* label) {
  std::atomic<int64_t> completed{0};
  std::atomic<bool> stop{false};
  std::atomic<int> running{threads};
  std::mutex error_mutex;
  Status first_error;
  std::vector<std::vector<double>> per_thread(static_cast<size_t>(threads));
  std::vector<RunTimings> timing_sums(static_cast<size_t>(threads));
  const Clock::time_point start = Clock::now();

  auto worker = [&](std::vector<double>& latencies, RunTimings& sums) {
    while (!stop.load()) {
      const Clock::time_point t0 = Clock::now();
      RunTimings timings;
      auto result = session.run_timed(feeds, &timings);
      const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      if (!result.ok()) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (first_error.ok()) first_error = result.status();
        stop = true;
        break;
      }
      latencies.push_back(ms);
      sums.h2d_ms += timings.h2d_ms;
      sums.compute_ms += timings.compute_ms;
      sums.d2h_ms += timings.d2h_ms;
      const int64_t done = ++completed;
      if (done >= min_iterations && seconds_since(start) >= min_seconds) stop = true;
    }
    --running;
  };
  std::vector<std::thread> pool;
  for (size_t t = 0; t < per_thread.size(); ++t) pool.emplace_back(worker, std::ref(per_thread[t]), std::ref(timing_sums[t]));

  const bool tty = isatty(fileno(stderr)) != 0;
  Clock::time_point last_progress = start;
  while (running.load() > 0) {
    std::this_thread::sleep_for(kPollInterval);
    if (Clock::now() - last_progress < kProgressInterval) continue;
    last_progress = Clock::now();
    const double elapsed = seconds_since(start);
    std::fprintf(stderr, "%s%s: %.1f s, %lld inferences, %.1f inferences/s%s", tty ? "\r" : "", label, elapsed,
                 static_cast<long long>(completed.load()), static_cast<double>(completed.load()) / elapsed,
                 tty ? "" : "\n");
  }
  for (auto& t : pool) t.join();
  PhaseResult result;
  result.elapsed_s = seconds_since(start);
  if (tty && result.elapsed_s >= std::chrono::duration<double>(kProgressInterval).count()) std::fprintf(stderr, "\n");
  if (!first_error.ok()) return first_error.with_context("inference failed");
  for (auto& latencies : per_thread) result.latencies_ms.insert(result.latencies_ms.end(), latencies.begin(), latencies.end());
  for (const RunTimings& t : timing_sums) {
    result.timing_sums.h2d_ms += t.h2d_ms;
    result.timing_sums.compute_ms += t.compute_ms;
    result.timing_sums.d2h_ms += t.d2h_ms;
  }
  return result;
}

int64_t samples_per_inference(const BenchOptions& options, const Session& session,
                              const std::map<std::string, Tensor>& feeds) {
  if (options.batch) return *options.batch;
  for (const TensorInfo& info : required_inputs(session)) {
    auto it = feeds.find(info.name);
    if (it != feeds.end() && it->second.rank() > 0) return it->second.shape()[0];
  }
  return 1;
}

Status export_json(const BenchOptions& options, int64_t batch, size_t iterations, double elapsed_s,
                   double queries_per_s, const LatencyStats& stats, const RunTimings& mean_device) {
  rapidjson::StringBuffer buffer;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("model");
  w.String(options.model.c_str());
  w.Key("batch");
  w.Int64(batch);
  w.Key("threads");
  w.Int(options.threads);
  w.Key("iterations");
  w.Uint64(iterations);
  w.Key("duration_s");
  w.Double(elapsed_s);
  w.Key("warmup_s");
  w.Double(options.warmup_s);
  w.Key("throughput_per_s");
  w.Double(queries_per_s * static_cast<double>(batch));
  w.Key("queries_per_s");
  w.Double(queries_per_s);
  w.Key("latency_ms");
  write_latency_object(w, stats);
  w.Key("mean_device_ms");  // engines only (zeros on the reference executor)
  w.StartObject();
  w.Key("h2d");
  w.Double(mean_device.h2d_ms);
  w.Key("compute");
  w.Double(mean_device.compute_ms);
  w.Key("d2h");
  w.Double(mean_device.d2h_ms);
  w.EndObject();
  w.EndObject();
  std::ofstream out(options.export_json, std::ios::trunc);
  if (!out) return invalid_argument("cannot write --export-json file '" + options.export_json + "'");
  out << buffer.GetString() << '\n';
  out.close();
  if (!out) return data_loss("error while writing --export-json file '" + options.export_json + "'");
  return {};
}

// Per-step device times, slowest first (trtexec --dumpProfile).
Status print_profile(const Session& session, const std::map<std::string, Tensor>& feeds) {
  constexpr int kProfileIterations = 20;
  KILN_ASSIGN_OR_RETURN(std::vector<StepProfile> steps, session.profile_steps(feeds, kProfileIterations));
  double total = 0;
  for (const StepProfile& s : steps) total += s.ms;
  std::vector<const StepProfile*> order;
  for (const StepProfile& s : steps) order.push_back(&s);
  std::stable_sort(order.begin(), order.end(), [](const StepProfile* a, const StepProfile* b) { return a->ms > b->ms; });
  std::printf("\nPer-step profile (%d runs, without graph replay; total %.3f ms):\n", kProfileIterations, total);
  std::printf("  %10s %6s  %-22s %-28s %s\n", "ms", "%", "op", "step", "implementation");
  for (const StepProfile* s : order)
    std::printf("  %10.4f %6.2f  %-22s %-28s %s\n", s->ms, total > 0 ? 100.0 * s->ms / total : 0.0, s->op.c_str(),
                s->name.c_str(), s->implementation.c_str());
  return {};
}

Status bench(const BenchOptions& options) {
  if (options.threads > kMaxThreads)
    return invalid_argument("--threads " + std::to_string(options.threads) + " is more than the limit of " +
                            std::to_string(kMaxThreads));
  InputRequest request;
  request.batch = options.batch;
  request.seed = options.seed;
  KILN_ASSIGN_OR_RETURN(request.shapes, parse_shape_specs(options.shapes));
  KILN_RETURN_IF_ERROR(check_model_file(options.model));
  KILN_ASSIGN_OR_RETURN(OpenedModel opened, open_model(options.model, options.engine, request));
  const std::unique_ptr<Session>& session = opened.session;
  const std::map<std::string, Tensor>& feeds = opened.feeds;
  const int64_t batch = samples_per_inference(options, *session, feeds);

  if (options.warmup_s > 0) {
    KILN_ASSIGN_OR_RETURN(PhaseResult warmup, run_phase(*session, feeds, options.threads, 0, options.warmup_s, "warmup"));
    (void)warmup;
  }
  KILN_ASSIGN_OR_RETURN(PhaseResult measured, run_phase(*session, feeds, options.threads, options.iterations,
                                                        options.duration_s, "bench"));
  const LatencyStats stats = compute_latency_stats(measured.latencies_ms);
  const size_t iterations = measured.latencies_ms.size();
  const double queries_per_s = static_cast<double>(iterations) / measured.elapsed_s;

  std::printf("Model: %s (%s)\n", options.model.c_str(), session->description().c_str());
  std::printf("Batch: %lld  Threads: %d  Iterations: %zu in %.2f s\n", static_cast<long long>(batch), options.threads,
              iterations, measured.elapsed_s);
  std::printf("Throughput: %.2f inferences/s, %.2f samples/s\n", queries_per_s,
              queries_per_s * static_cast<double>(batch));
  std::printf("Latency (ms): min %.3f  mean %.3f  median %.3f  p90 %.3f  p95 %.3f  p99 %.3f  max %.3f\n", stats.min_ms,
              stats.mean_ms, stats.p50_ms, stats.p90_ms, stats.p95_ms, stats.p99_ms, stats.max_ms);
  const RunTimings& sums = measured.timing_sums;
  const auto n = static_cast<double>(std::max<size_t>(iterations, 1));
  const RunTimings mean_device{sums.h2d_ms / n, sums.compute_ms / n, sums.d2h_ms / n};
  if (sums.compute_ms > 0)
    std::printf("Mean device times (ms): H2D %.3f  compute %.3f  D2H %.3f\n", mean_device.h2d_ms,
                mean_device.compute_ms, mean_device.d2h_ms);
  if (options.dump_profile) KILN_RETURN_IF_ERROR(print_profile(*session, feeds));
  if (!options.export_json.empty()) {
    KILN_RETURN_IF_ERROR(export_json(options, batch, iterations, measured.elapsed_s, queries_per_s, stats, mean_device));
    std::printf("Results written to %s\n", options.export_json.c_str());
  }
  return {};
}

}  // namespace

Subcommand add_bench_command(CLI::App& parent) {
  auto options = std::make_shared<BenchOptions>();
  CLI::App* app = parent.add_subcommand("bench", "Measure throughput and latency (trtexec-style)");
  app->add_option("model", options->model, "Model file (.onnx or .plan)")->required();
  app->add_option("--batch", options->batch, "Dim 0 of every input whose dim 0 is dynamic (samples/s = batch x inferences/s)")
      ->check(at_least(1, "1"));
  app->add_option("--shapes", options->shapes, "Shapes for dynamic inputs: NAME:DxDxD[,NAME:DxD...]")
      ->allow_extra_args(false);
  app->add_option("--iterations", options->iterations, "Run at least this many inferences")
      ->check(at_least(1, "1"))
      ->capture_default_str();
  app->add_option("--duration", options->duration_s, "Run at least this many seconds")
      ->check(at_least(0, "0"))
      ->capture_default_str();
  app->add_option("--warmup", options->warmup_s, "Warm up for this many seconds first")
      ->check(at_least(0, "0"))
      ->capture_default_str();
  app->add_option("--threads", options->threads, "Threads calling run concurrently")
      ->check(at_least(1, "1"))
      ->capture_default_str();
  app->add_option("--export-json", options->export_json, "Write the results as JSON to FILE");
  app->add_option("--seed", options->seed, "Seed for the random inputs")->check(at_least(0, "0"))->capture_default_str();
  add_engine_options(*app, options->engine);
  app->add_flag("--dump-profile", options->dump_profile, "Print per-step device times after the run (engines)");
  return {app, [options] { return bench(*options); }};
}

}  // namespace kiln::cli
