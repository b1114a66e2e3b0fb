// kiln serve: a KServe v2 / Triton-compatible inference server over a Triton-layout model
// repository, on HTTP (KServe v2 REST, TF-Serving REST, metrics) and gRPC.
#include <algorithm>
#include <cstdint>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "commands.h"
#include "large_buffer_reuse.h"
#include "serve_api_key.h"
#include "serve_grpc.h"
#include "serve_http.h"
#include "serve_metrics.h"
#include "serve_tls.h"
#include "serving/inference_server.h"
#include "serving/nvml_reading_source.h"
#include "serving/transfer_buffer_pool.h"

#ifndef KILN_VERSION
#define KILN_VERSION "unknown"
#endif

namespace kiln::cli {
namespace {

constexpr int kMaxPort = 65535;
constexpr size_t kBytesPerMiB = 1u << 20;
constexpr double kMaxGrpcMessageMib = 2047;  // gRPC counts message sizes in an int
// Fractions of a second let tests poll quickly; below this a rescan would run back to back.
constexpr double kMinRepositoryPollSeconds = 0.1;
constexpr int kMaxHttpThreads = 64;

// Two at least, so that one slow connection never holds every other one; eight are enough to
// read a GPU's worth of large requests (docs/PERFORMANCE.md).
int default_http_threads() {
  constexpr int kMinThreads = 2;
  constexpr int kMaxDefaultThreads = 8;
  return std::clamp(static_cast<int>(std::thread::hardware_concurrency() / 2), kMinThreads, kMaxDefaultThreads);
}

serving::ModelControlMode control_mode_from_name(const std::string& name) {
  if (name == "explicit") return serving::ModelControlMode::kExplicit;
  if (name == "poll") return serving::ModelControlMode::kPoll;
  return serving::ModelControlMode::kNone;
}

struct ServeOptions {
  std::string repository;
  int http_port = 8000;
  int grpc_port = 8001;
  int metrics_port = 8002;
  std::string http_address = "127.0.0.1";
  std::string grpc_address = "127.0.0.1";
  std::string control_mode = "none";
  double repository_poll_seconds = 15;
  double max_body_mib = 64;
  double grpc_max_message_mib = 64;
  int io_timeout_seconds = 60;
  int http_threads = 0;  // 0: half the cores, 2 to 8
  int grpc_max_connection_age_seconds = 0;
  int grpc_max_connection_age_grace_seconds = 5;
  serve::TlsFiles tls;
  std::string api_key_file;
  std::string engine_cache;  // empty: <repository>/.kiln-cache
  bool no_engine_cache = false;
  uint64_t engine_cache_max_bytes = 0;
  bool allow_client_shm = false;
  int model_load_threads = 4;
  uint64_t pinned_pool_bytes = uint64_t{256} << 20;  // Triton's default
};

constexpr const char* kDefaultEngineCache = ".kiln-cache";  // hidden: the repository scan skips it

Status run_server(const ServeOptions& options) {
  keep_large_buffers_for_reuse();
  KILN_RETURN_IF_ERROR(serve::check_tls_files(options.tls));
  KILN_ASSIGN_OR_RETURN(serve::ApiKey api_key, serve::ApiKey::load(options.api_key_file));
  serving::ServerOptions server_options;
  server_options.repository = options.repository;
  server_options.control_mode = control_mode_from_name(options.control_mode);
  server_options.repository_poll_interval = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::duration<double>(options.repository_poll_seconds));
  server_options.model_load_threads = options.model_load_threads;
  if (!options.no_engine_cache) {
    server_options.engine_cache_directory =
        options.engine_cache.empty() ? options.repository + "/" + kDefaultEngineCache : options.engine_cache;
    server_options.engine_cache_max_bytes = options.engine_cache_max_bytes;
  }
  // The server logs each model's load (engine builds, cache hits, failures) as it happens.
  KILN_ASSIGN_OR_RETURN(std::unique_ptr<serving::InferenceServer> server, serving::InferenceServer::create(server_options));
  serve::ServeMetrics metrics;  // one set of counters for every transport
  if (options.metrics_port != 0) {
    Result<std::unique_ptr<serving::GpuReadingSource>> gpus = serving::open_nvml_reading_source();
    if (gpus.ok()) {
      metrics.set_gpu_source(std::move(gpus).value());
      std::fprintf(stderr, "kiln serve: GPU metrics (utilization, memory, power, energy) from NVML\n");
    } else {
      std::fprintf(stderr, "kiln serve: no GPU metrics: %s\n", gpus.status().message().c_str());
    }
  }
  // Before the front ends, which use it, and destroyed after them.
  serving::SharedMemoryRegistry shared_memory(options.allow_client_shm);
  serving::TransferBufferPool transfer_buffers(static_cast<size_t>(options.pinned_pool_bytes));
  std::unique_ptr<serve::GrpcFrontEnd> grpc;
  if (options.grpc_port != 0) {
    serve::GrpcOptions grpc_options;
    grpc_options.address = options.grpc_address;
    grpc_options.port = static_cast<uint16_t>(options.grpc_port);
    grpc_options.max_message_bytes = static_cast<size_t>(options.grpc_max_message_mib * kBytesPerMiB);
    grpc_options.max_connection_age_seconds = options.grpc_max_connection_age_seconds;
    grpc_options.max_connection_age_grace_seconds = options.grpc_max_connection_age_grace_seconds;
    grpc_options.tls = options.tls;
    grpc_options.server_version = KILN_VERSION;
    grpc_options.shared_memory = &shared_memory;
    grpc_options.transfer_buffers = &transfer_buffers;
    KILN_ASSIGN_OR_RETURN(grpc, serve::GrpcFrontEnd::start(*server, metrics, api_key, grpc_options));
  }
  serve::HttpOptions http;
  http.address = options.http_address;
  http.port = static_cast<uint16_t>(options.http_port);
  http.metrics_port = static_cast<uint16_t>(options.metrics_port);
  http.max_body_bytes = static_cast<size_t>(options.max_body_mib * kBytesPerMiB);
  http.io_timeout_seconds = options.io_timeout_seconds;
  http.io_threads = options.http_threads > 0 ? options.http_threads : default_http_threads();
  http.tls = options.tls;
  http.server_version = KILN_VERSION;
  http.shared_memory = &shared_memory;
  http.transfer_buffers = &transfer_buffers;
  // Returns after SIGINT/SIGTERM, once the accepted requests of both transports completed.
  Status status = serve::run_http_server(*server, metrics, api_key, http);
  server->shutdown();
  if (grpc) grpc->shutdown();
  return status;
}

}  // namespace

Subcommand add_serve_command(CLI::App& parent) {
  auto options = std::make_shared<ServeOptions>();
  CLI::App* app = parent.add_subcommand("serve", "Serve a Triton-layout model repository over KServe v2 HTTP and gRPC");
  app->add_option("--model-repository", options->repository, "Model repository directory")->required();
  app->add_option("--http-port", options->http_port, "HTTP port")->check(CLI::Range(1, kMaxPort))->capture_default_str();
  app->add_option("--grpc-port", options->grpc_port, "gRPC port (KServe v2 GRPCInferenceService); 0 turns gRPC off")
      ->check(CLI::Range(0, kMaxPort))
      ->capture_default_str();
  app->add_option("--metrics-port", options->metrics_port, "Prometheus metrics port (GET /metrics); 0 turns metrics off")
      ->check(CLI::Range(0, kMaxPort))
      ->capture_default_str();
  app->add_option("--http-address", options->http_address, "Address the HTTP listeners bind")->capture_default_str();
  app->add_option("--grpc-address", options->grpc_address, "Address the gRPC listener binds")->capture_default_str();
  app->add_option("--model-control-mode", options->control_mode,
                  "none: load everything at start; explicit: repository API; poll: load everything, then follow the "
                  "repository's changes")
      ->check(CLI::IsMember({"none", "explicit", "poll"}))
      ->capture_default_str();
  app->add_option("--repository-poll-secs", options->repository_poll_seconds,
                  "Seconds between two rescans of the repository in poll mode")
      ->check(at_least(kMinRepositoryPollSeconds, "0.1"))
      ->capture_default_str();
  app->add_option("--http-max-body-mib", options->max_body_mib, "Largest request body accepted (MiB)")
      ->check(at_least(0.001, "0.001"))
      ->capture_default_str();
  app->add_option("--grpc-max-message-mib", options->grpc_max_message_mib, "Largest gRPC request message accepted (MiB)")
      ->check(CLI::Range(0.001, kMaxGrpcMessageMib))
      ->capture_default_str();
  app->add_option("--http-threads", options->http_threads,
                  "HTTP I/O threads (event loops, each with its own SO_REUSEPORT listening socket on the port); 0: half the cores, 2 to 8")
      ->check(CLI::Range(0, kMaxHttpThreads))
      ->capture_default_str();
  app->add_option("--http-timeout", options->io_timeout_seconds, "Seconds an idle client connection may stall")
      ->check(at_least(1, "1"))
      ->capture_default_str();
  app->add_option("--grpc-max-connection-age", options->grpc_max_connection_age_seconds,
                  "Seconds after which a gRPC connection is closed so clients rebalance; 0: no limit")
      ->check(at_least(0, "0"))
      ->capture_default_str();
  app->add_option("--grpc-max-connection-age-grace", options->grpc_max_connection_age_grace_seconds,
                  "Seconds in-flight gRPC calls get to finish when their connection ages out")
      ->check(at_least(0, "0"))
      ->capture_default_str();
  app->add_option("--tls-cert", options->tls.cert_file, "PEM certificate chain: HTTP and gRPC then speak TLS only");
  app->add_option("--tls-key", options->tls.key_file, "PEM private key of --tls-cert");
  app->add_option("--engine-cache", options->engine_cache,
                  "Directory keeping the engines built from ONNX models between starts (default: <model-repository>/.kiln-cache)");
  app->add_flag("--no-engine-cache", options->no_engine_cache, "Build every ONNX model's engine in memory on each load");
  app->add_option("--engine-cache-size", options->engine_cache_max_bytes,
                  "Largest total size of the cached engines (bytes, or with a unit: 500MB, 20GB); storing one evicts the "
                  "least recently used beyond it (default: no limit)")
      ->transform(CLI::AsSizeValue(false));
  app->add_option("--model-load-threads", options->model_load_threads,
                  "Models loaded at once at start-up and after a poll (Triton's --model-load-thread-count); "
                  "GPU engine builds still run one at a time")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app->add_flag("--allow-client-shm", options->allow_client_shm,
                "Let clients register POSIX shared-memory regions for inputs and outputs (KServe's system shared-memory "
                "extension; off by default, as in Triton; registration needs the API key when one is set)");
  app->add_option("--pinned-memory-pool-byte-size", options->pinned_pool_bytes,
                  "Page-locked host memory that received request bodies and gRPC raw inputs land in, so they go to the "
                  "GPU without a staging copy (bytes, or with a unit: 256MB, 1GB; as Triton's flag); past it, plain memory")
      ->transform(CLI::AsSizeValue(false))
      ->capture_default_str();
  app->add_option("--api-key-file", options->api_key_file,
                  "File whose first line is the API key the repository endpoints require (default: $KILN_API_KEY)");
  return {app, [options, app] {
            // Triton ignores the interval outside poll mode too; say so rather than leave a user
            // wondering why edits to the repository are not picked up.
            if (app->count("--repository-poll-secs") > 0 && options->control_mode != "poll") {
              std::fprintf(stderr, "kiln serve: --repository-poll-secs is ignored: it applies to --model-control-mode poll only\n");
            }
            return run_server(*options);
          }};
}

}  // namespace kiln::cli
