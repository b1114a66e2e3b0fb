// kiln serve: a KServe v2 / Triton-compatible inference server over a Triton-layout model
// repository.
#include <memory>
#include <string>

#include "commands.h"
#include "serve_http.h"
#include "serving/inference_server.h"

#ifndef KILN_VERSION
#define KILN_VERSION "unknown"
#endif

namespace kiln::cli {
namespace {

constexpr int kMaxPort = 65535;
constexpr size_t kBytesPerMiB = 1u << 20;

struct ServeOptions {
  std::string repository;
  int http_port = 8000;
  int metrics_port = 8002;
  std::string http_address = "127.0.0.1";
  std::string control_mode = "none";
  double max_body_mib = 64;
  int io_timeout_seconds = 60;
};

Status run_server(const ServeOptions& options) {
  serving::ServerOptions server_options;
  server_options.repository = options.repository;
  server_options.control_mode =
      options.control_mode == "explicit" ? serving::ModelControlMode::kExplicit : serving::ModelControlMode::kNone;
  KILN_ASSIGN_OR_RETURN(std::unique_ptr<serving::InferenceServer> server, serving::InferenceServer::create(server_options));
  for (const serving::RepositoryEntry& entry : server->repository_index(false)) {
    if (entry.state == "UNAVAILABLE") std::fprintf(stderr, "kiln serve: model '%s' not loaded: %s\n", entry.name.c_str(), entry.reason.c_str());
    if (entry.state == "READY") std::fprintf(stderr, "kiln serve: model '%s' version %s ready\n", entry.name.c_str(), entry.version.c_str());
  }
  serve::HttpOptions http;
  http.address = options.http_address;
  http.port = static_cast<uint16_t>(options.http_port);
  http.metrics_port = static_cast<uint16_t>(options.metrics_port);
  http.max_body_bytes = static_cast<size_t>(options.max_body_mib * kBytesPerMiB);
  http.io_timeout_seconds = options.io_timeout_seconds;
  http.server_version = KILN_VERSION;
  Status status = serve::run_http_server(*server, http);
  server->shutdown();
  return status;
}

}  // namespace

Subcommand add_serve_command(CLI::App& parent) {
  auto options = std::make_shared<ServeOptions>();
  CLI::App* app = parent.add_subcommand("serve", "Serve a Triton-layout model repository over KServe v2 HTTP");
  app->add_option("--model-repository", options->repository, "Model repository directory")->required();
  app->add_option("--http-port", options->http_port, "HTTP port")->check(CLI::Range(1, kMaxPort))->capture_default_str();
  app->add_option("--metrics-port", options->metrics_port, "Prometheus metrics port (GET /metrics); 0 turns metrics off")
      ->check(CLI::Range(0, kMaxPort))
      ->capture_default_str();
  app->add_option("--http-address", options->http_address, "Address to listen on")->capture_default_str();
  app->add_option("--model-control-mode", options->control_mode, "none: load everything at start; explicit: repository API")
      ->check(CLI::IsMember({"none", "explicit"}))
      ->capture_default_str();
  app->add_option("--http-max-body-mib", options->max_body_mib, "Largest request body accepted (MiB)")
      ->check(at_least(0.001, "0.001"))
      ->capture_default_str();
  app->add_option("--http-timeout", options->io_timeout_seconds, "Seconds an idle client connection may stall")
      ->check(at_least(1, "1"))
      ->capture_default_str();
  return {app, [options] { return run_server(*options); }};
}

}  // namespace kiln::cli
