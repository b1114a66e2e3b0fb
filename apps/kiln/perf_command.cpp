// kiln perf --model NAME [--url HOST:PORT] [--protocol http|grpc] [--concurrency N[,N...]]
//           [--duration S] [--warmup S] [--batch N] [--shapes ...] [--latency-target-ms MS]
//           [--export-json FILE] [--export-svg FILE]
// perf_analyzer's job against any KServe v2 server (kiln serve, Triton): N clients, each with
// its own connection, send the same random request back to back; per concurrency level it
// reports requests and inferences per second and latency percentiles, and with a p95 target
// names the level with the most throughput that meets it. A C++ client, so measuring does not
// take the server's CPUs the way Python clients do.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include "commands.h"
#include "large_buffer_reuse.h"
#include "latency_stats.h"
#include "perf_chart.h"
#include "perf_clients.h"

namespace kiln::cli {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kMaxConcurrency = 4096;
constexpr auto kProgressInterval = std::chrono::seconds(1);

struct PerfOptions {
  perf::TargetOptions target;
  std::string url;
  std::string protocol = "http";
  std::string shared_memory = "none";
  perf::TlsSettings tls;
  std::vector<int> concurrency = {1};
  double duration_s = 5;
  double warmup_s = 1;
  double latency_target_ms = 0;
  std::string export_json;
  std::string export_svg;
  uint64_t seed = 0;
};

struct LevelResult {
  int concurrency = 0;
  uint64_t requests = 0;
  uint64_t errors = 0;
  std::string first_error;
  double requests_per_s = 0;
  double inferences_per_s = 0;
  double received_mb_per_s = 0;
  std::optional<LatencyStats> latency;
};

// "host:port"; the port defaults to KServe's (8000 HTTP, 8001 gRPC).
Status parse_url(PerfOptions& o) {
  const int default_port = o.target.protocol == perf::Protocol::kGrpc ? 8001 : 8000;
  std::string url = o.url.empty() ? "127.0.0.1" : o.url;
  for (const char* scheme : {"http://", "grpc://"})
    if (url.rfind(scheme, 0) == 0) url = url.substr(std::string(scheme).size());
  if (!url.empty() && url.back() == '/') url.pop_back();
  const size_t colon = url.rfind(':');
  o.target.host = colon == std::string::npos ? url : url.substr(0, colon);
  o.target.port = default_port;
  if (colon != std::string::npos) {
    const std::string port = url.substr(colon + 1);
    char* end = nullptr;
    const long value = std::strtol(port.c_str(), &end, 10);
    if (port.empty() || *end != '\0' || value <= 0 || value > 65535)
      return invalid_argument("--url '" + o.url + "': '" + port + "' is not a port");
    o.target.port = static_cast<int>(value);
  }
  if (o.target.host.empty()) return invalid_argument("--url '" + o.url + "' names no host");
  return {};
}

// Runs `concurrency` clients for warmup + duration; only requests that start after the warm-up
// and finish before the end are counted.
Result<LevelResult> run_level(const PerfOptions& o, const perf::ModelSpec& model, int concurrency) {
  std::vector<std::unique_ptr<perf::Client>> clients;
  clients.reserve(static_cast<size_t>(concurrency));
  for (int i = 0; i < concurrency; ++i) {
    KILN_ASSIGN_OR_RETURN(std::unique_ptr<perf::Client> c, perf::make_client(o.target, model));
    clients.push_back(std::move(c));
  }
  const auto start = Clock::now();
  const auto measure_from = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.warmup_s));
  const auto measure_until = measure_from + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.duration_s));
  std::mutex mutex;
  std::vector<double> latencies_ms;
  LevelResult result;
  result.concurrency = concurrency;
  std::atomic<uint64_t> done{0};
  uint64_t received = 0;
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(concurrency));
  for (int i = 0; i < concurrency; ++i) {
    threads.emplace_back([&, client = clients[static_cast<size_t>(i)].get()] {
      std::vector<double> mine;
      uint64_t errors = 0, bytes = 0;
      std::string first_error;
      for (;;) {
        const auto t0 = Clock::now();
        if (t0 >= measure_until) break;
        const uint64_t bytes_before = client->bytes_received();
        const Status s = client->infer();
        const auto t1 = Clock::now();
        if (t0 < measure_from || t1 > measure_until) continue;
        if (s.ok()) {
          mine.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
          bytes += client->bytes_received() - bytes_before;
        } else {
          ++errors;
          if (first_error.empty()) first_error = s.message();
        }
        done.fetch_add(1, std::memory_order_relaxed);
      }
      std::lock_guard<std::mutex> lock(mutex);
      latencies_ms.insert(latencies_ms.end(), mine.begin(), mine.end());
      result.errors += errors;
      if (result.first_error.empty()) result.first_error = first_error;
      received += bytes;
    });
  }
  // Progress while it runs: long measurements should not look hung.
  for (auto next = start + kProgressInterval; next < measure_until; next += kProgressInterval) {
    std::this_thread::sleep_until(std::min(next, measure_until));
    const double t = std::chrono::duration<double>(Clock::now() - start).count();
    std::fprintf(stderr, "perf: concurrency %d: %.0f s, %s%llu requests measured\n", concurrency, t,
                 Clock::now() < measure_from ? "warming up, " : "", static_cast<unsigned long long>(done.load()));
  }
  for (std::thread& t : threads) t.join();
  result.requests = latencies_ms.size();
  result.requests_per_s = static_cast<double>(result.requests) / o.duration_s;
  result.inferences_per_s = result.requests_per_s * static_cast<double>(o.target.batch);
  result.received_mb_per_s = static_cast<double>(received) / o.duration_s / 1e6;
  if (!latencies_ms.empty()) result.latency = compute_latency_stats(std::move(latencies_ms));
  return result;
}

void print_table(const std::vector<LevelResult>& levels, const PerfOptions& o) {
  std::printf("%11s %12s %14s %9s %9s %9s %9s %9s %7s\n", "concurrency", "requests/s", "inferences/s", "p50 ms", "p90 ms",
              "p95 ms", "p99 ms", "MB/s out", "errors");
  for (const LevelResult& l : levels) {
    const LatencyStats s = l.latency.value_or(LatencyStats{});
    std::printf("%11d %12.1f %14.1f %9.3f %9.3f %9.3f %9.3f %9.1f %7llu\n", l.concurrency, l.requests_per_s, l.inferences_per_s,
                s.p50_ms, s.p90_ms, s.p95_ms, s.p99_ms, l.received_mb_per_s, static_cast<unsigned long long>(l.errors));
  }
  if (o.latency_target_ms <= 0) return;
  const LevelResult* best = nullptr;
  for (const LevelResult& l : levels)
    if (l.latency && l.errors == 0 && l.latency->p95_ms <= o.latency_target_ms && (!best || l.inferences_per_s > best->inferences_per_s))
      best = &l;
  if (best) {
    std::printf("Best within p95 <= %.3f ms: concurrency %d, %.1f inferences/s (p95 %.3f ms)\n", o.latency_target_ms,
                best->concurrency, best->inferences_per_s, best->latency->p95_ms);
  } else {
    std::printf("No concurrency level met p95 <= %.3f ms\n", o.latency_target_ms);
  }
}

Status write_json(const std::vector<LevelResult>& levels, const PerfOptions& o) {
  rapidjson::StringBuffer buffer;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("model");
  w.String(o.target.model.c_str());
  w.Key("protocol");
  w.String(o.protocol.c_str());
  w.Key("batch");
  w.Int64(o.target.batch);
  w.Key("duration_s");
  w.Double(o.duration_s);
  w.Key("levels");
  w.StartArray();
  for (const LevelResult& l : levels) {
    w.StartObject();
    w.Key("concurrency");
    w.Int(l.concurrency);
    w.Key("requests");
    w.Uint64(l.requests);
    w.Key("errors");
    w.Uint64(l.errors);
    w.Key("requests_per_s");
    w.Double(l.requests_per_s);
    w.Key("inferences_per_s");
    w.Double(l.inferences_per_s);
    w.Key("received_mb_per_s");
    w.Double(l.received_mb_per_s);
    w.Key("latency_ms");
    if (l.latency) write_latency_object(w, *l.latency);
    else w.Null();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  std::ofstream out(o.export_json);
  out << buffer.GetString() << '\n';
  if (!out) return invalid_argument("cannot write '" + o.export_json + "'");
  return {};
}

Status write_svg(const std::vector<LevelResult>& levels, const PerfOptions& o) {
  std::vector<perf::ChartPoint> points;
  for (const LevelResult& l : levels)
    if (l.latency) points.push_back({l.concurrency, l.latency->p95_ms, l.inferences_per_s});
  const std::string title = "kiln perf: " + o.target.model + " over " + o.protocol + ", batch " + std::to_string(o.target.batch);
  std::ofstream out(o.export_svg);
  out << perf::throughput_latency_svg(points, title, o.latency_target_ms);
  if (!out) return invalid_argument("cannot write '" + o.export_svg + "'");
  return {};
}

Status run_perf(PerfOptions o) {
  keep_large_buffers_for_reuse();
  o.target.protocol = o.protocol == "grpc" ? perf::Protocol::kGrpc : perf::Protocol::kHttp;
  o.target.system_shared_memory = o.shared_memory == "system";
  KILN_RETURN_IF_ERROR(parse_url(o));
  if (!o.tls.ca_file.empty()) o.tls.enabled = true;
  if (o.tls.enabled) {
    KILN_ASSIGN_OR_RETURN(o.target.tls, perf::TlsClientContext::make(o.tls));
  }
  KILN_ASSIGN_OR_RETURN(const perf::ModelSpec model, perf::describe_model(o.target, o.seed));
  const std::vector<perf::InputSpec>& inputs = model.inputs;
  std::fprintf(stderr, "perf: model '%s' on %s:%d over %s%s%s, batch %lld, %zu inputs\n", o.target.model.c_str(),
               o.target.host.c_str(), o.target.port, o.protocol.c_str(), o.tls.enabled ? " (TLS)" : "",
               o.target.system_shared_memory ? " with system shared memory" : "",
               static_cast<long long>(o.target.batch), inputs.size());
  std::vector<LevelResult> levels;
  for (int concurrency : o.concurrency) {
    KILN_ASSIGN_OR_RETURN(LevelResult level, run_level(o, model, concurrency));
    levels.push_back(std::move(level));
  }
  print_table(levels, o);
  if (!o.export_json.empty()) KILN_RETURN_IF_ERROR(write_json(levels, o));
  if (!o.export_svg.empty()) KILN_RETURN_IF_ERROR(write_svg(levels, o));
  uint64_t errors = 0, requests = 0;
  std::string first_error;
  for (const LevelResult& l : levels) {
    errors += l.errors;
    requests += l.requests + l.errors;
    if (first_error.empty()) first_error = l.first_error;
  }
  if (errors > 0)
    return unavailable(std::to_string(errors) + " of " + std::to_string(requests) + " measured requests failed; the first: " + first_error);
  return {};
}

}  // namespace

Subcommand add_perf_command(CLI::App& parent) {
  auto options = std::make_shared<PerfOptions>();
  CLI::App* app = parent.add_subcommand("perf", "Load-test a KServe v2 server (perf_analyzer-style): throughput and latency per concurrency");
  app->add_option("-m,--model", options->target.model, "Model name")->required();
  app->add_option("--model-version", options->target.version, "Model version (default: the server's choice)");
  app->add_option("-u,--url", options->url, "Server HOST[:PORT] (default 127.0.0.1, port 8000 for HTTP, 8001 for gRPC)");
  app->add_option("-i,--protocol", options->protocol, "http (binary tensor extension) or grpc (raw contents)")
      ->check(CLI::IsMember({"http", "grpc"}))
      ->capture_default_str();
  app->add_option("-c,--concurrency", options->concurrency, "Clients sending at once; a list (1,2,4,8) measures each level")
      ->delimiter(',')
      ->check(CLI::Range(1, kMaxConcurrency))
      ->capture_default_str();
  app->add_option("--duration", options->duration_s, "Seconds measured per concurrency level")->check(at_least(0.1, "0.1"))->capture_default_str();
  app->add_option("--warmup", options->warmup_s, "Seconds of requests before measuring, per level")->check(at_least(0, "0"))->capture_default_str();
  app->add_option("-b,--batch", options->target.batch, "Rows per request (an input's variable dim 0)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20))
      ->capture_default_str();
  app->add_option("--shapes", options->target.shapes, "Input shapes for other variable dims: NAME:DxD[,NAME:DxD...]")
      ->allow_extra_args(false);
  app->add_option("--timeout", options->target.timeout_s, "Seconds a request may take")->check(at_least(0.001, "0.001"))->capture_default_str();
  app->add_option("--latency-target-ms", options->latency_target_ms, "Report the best level whose p95 latency is within this");
  app->add_option("--export-json", options->export_json, "Write the results as JSON");
  app->add_option("--export-svg", options->export_svg, "Write a chart of inferences/s against p95 latency per level (SVG)");
  app->add_option("--seed", options->seed, "Seed of the random inputs")->capture_default_str();
  app->add_option("--shared-memory", options->shared_memory,
                  "none, or system: each client keeps its inputs and outputs in a POSIX shared-memory region it registers "
                  "(the server needs --allow-client-shm; as perf_analyzer's flag)")
      ->check(CLI::IsMember({"none", "system"}))
      ->capture_default_str();
  app->add_option("--output-shared-memory-size", options->target.output_shared_memory_bytes,
                  "Bytes of region reserved per output with --shared-memory system")
      ->check(at_least(1, "1"))
      ->capture_default_str();
  app->add_flag("--tls", options->tls.enabled,
                "HTTPS / gRPC over TLS, verifying the server's certificate and name (system CAs unless --tls-ca)");
  app->add_option("--tls-ca", options->tls.ca_file, "PEM CA certificates to trust for the server's certificate (implies --tls)");
  return {app, [options] { return run_perf(*options); }};
}

}  // namespace kiln::cli
