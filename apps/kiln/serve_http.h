// The KServe v2 HTTP/REST front end of kiln serve, on libevent's evhttp. Several I/O threads, each
// with its own event loop accepting on the shared listening socket, read and decode requests and
// send replies; inference runs on the scheduler threads, which hand each finished response back
// to the I/O thread that read its request. One thread could not read large requests fast enough
// to fill a GPU's batches (docs/PERFORMANCE.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "kiln/status.h"
#include "serve_api_key.h"
#include "serve_metrics.h"
#include "serve_tls.h"
#include "serving/inference_server.h"
#include "serving/shared_memory.h"
#include "serving/transfer_buffer_pool.h"

namespace kiln::cli::serve {

struct HttpOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 8000;
  uint16_t metrics_port = 8002;  // Prometheus /metrics; 0: off
  size_t max_body_bytes = 64u << 20;     // larger bodies get 413
  size_t max_header_bytes = 64u << 10;   // request line and headers together
  int io_timeout_seconds = 60;  // slow clients: an idle read or write beyond this closes the connection
  int io_threads = 2;  // event loops reading and answering connections (>= 1)
  TlsFiles tls;  // enabled: both listeners (API and metrics) speak HTTPS only
  std::string server_version;
  // The system shared-memory regions clients registered (shared with the other front end); never null.
  serving::SharedMemoryRegistry* shared_memory = nullptr;
  // Where infer request bodies are received (shared with the other front end); never null.
  serving::TransferBufferPool* transfer_buffers = nullptr;
};

// Serves until SIGINT or SIGTERM, then stops accepting inference, completes the accepted
// requests and returns.
// Requests to the repository API need `api_key` (401 otherwise).
Status run_http_server(serving::InferenceServer& server, ServeMetrics& metrics, const ApiKey& api_key, const HttpOptions& options);

}  // namespace kiln::cli::serve
