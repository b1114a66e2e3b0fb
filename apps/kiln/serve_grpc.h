// The KServe v2 gRPC front end of kiln serve (service inference.GRPCInferenceService), on gRPC's
// callback API: no thread waits for a request while it is queued or batched. Handlers decode,
// hand the request to serving::InferenceServer and return; the scheduler thread that completes
// it finishes the call. Model loading runs on a worker thread of its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "kiln/status.h"
#include "serve_api_key.h"
#include "serve_metrics.h"
#include "serve_tls.h"
#include "serving/inference_server.h"
#include "serving/shared_memory.h"
#include "serving/transfer_buffer_pool.h"

namespace kiln::cli::serve {

struct GrpcOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 8001;
  size_t max_message_bytes = 64u << 20;  // larger requests get RESOURCE_EXHAUSTED
  // Connections are closed (with GOAWAY) after this many seconds, so that clients behind a load
  // balancer reconnect and spread out; 0: connections live as long as clients keep them.
  int max_connection_age_seconds = 0;
  int max_connection_age_grace_seconds = 5;  // in-flight calls get this long to finish
  TlsFiles tls;
  std::string server_version;
  // The system shared-memory regions clients registered (shared with the other front end); never null.
  serving::SharedMemoryRegistry* shared_memory = nullptr;
  // Where ModelInfer's raw input contents are received (shared with the other front end); never null.
  serving::TransferBufferPool* transfer_buffers = nullptr;
};

class GrpcFrontEnd {
 public:
  // Listens and serves on gRPC's threads until shutdown().
  static Result<std::unique_ptr<GrpcFrontEnd>> start(serving::InferenceServer& server, ServeMetrics& metrics,
                                                     const ApiKey& api_key, const GrpcOptions& options);
  ~GrpcFrontEnd();
  GrpcFrontEnd(const GrpcFrontEnd&) = delete;
  GrpcFrontEnd& operator=(const GrpcFrontEnd&) = delete;

  // Stops listening; calls still open after a short grace period are cancelled.
  void shutdown();

 private:
  class Impl;
  explicit GrpcFrontEnd(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kiln::cli::serve
