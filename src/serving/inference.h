// Transport-independent inference requests and responses. Front ends (HTTP, gRPC) decode into
// an InferenceRequest and encode an InferenceResponse; nothing below them knows the protocol.
//
// Ownership: a request's input tensors may point into the received body (Tensor::wrap with the
// body as owner), so decoding does not copy tensor bytes. The server owns a request from
// InferenceServer::infer() until it calls the completion callback exactly once.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kiln/status.h"
#include "kiln/tensor.h"
#include "serving/shared_memory.h"

namespace kiln::serving {

using Clock = std::chrono::steady_clock;

// Lifecycle timestamps: statistics, metrics and kiln perf's server-side breakdown use them.
struct RequestTimestamps {
  Clock::time_point received;
  Clock::time_point queued;
  Clock::time_point compute_start;
  Clock::time_point compute_end;
  Clock::time_point sent;
};

struct NamedTensor {
  std::string name;
  Tensor tensor;
};

struct RequestedOutput {
  std::string name;
  bool binary = false;  // KServe binary tensor extension: the front end decides the encoding
  // Shared-memory extension: the front end copies the output here and sends no data.
  std::optional<SharedMemorySpan> shared_memory;
};

struct InferenceResponse;

struct InferenceRequest {
  std::string id;
  std::string model_name;
  std::string model_version;  // empty: the policy's latest ready version
  std::vector<NamedTensor> inputs;
  std::vector<RequestedOutput> outputs;  // empty: all outputs
  std::map<std::string, std::string> parameters;
  uint32_t priority = 0;       // 0: the model's default priority level
  uint64_t timeout_us = 0;     // 0: the model's default queue timeout
  // When the client stops waiting (a gRPC deadline). A request still queued then is dropped
  // with DEADLINE_EXCEEDED rather than run for nobody; one already running completes.
  Clock::time_point client_deadline = Clock::time_point::max();
  // True once the client has gone (its HTTP connection closed, its gRPC call was cancelled). A
  // request still queued then is dropped instead of computed for nobody; one already running
  // completes. Called from scheduler threads; empty: the transport cannot tell.
  std::function<bool()> client_gone;
  RequestTimestamps timestamps;
  // Called exactly once, from a server thread, with the response or the error.
  std::function<void(InferenceResponse&&)> on_complete;
};

struct InferenceResponse {
  std::string id;
  std::string model_name;
  std::string model_version;
  Status status;
  std::vector<NamedTensor> outputs;
  std::vector<RequestedOutput> requested;  // echoes the request's output choices
  RequestTimestamps timestamps;

  // The client's choices for output `name`, or nullptr when it did not name that output.
  const RequestedOutput* requested_for(const std::string& name) const {
    for (const RequestedOutput& r : requested)
      if (r.name == name) return &r;
    return nullptr;
  }
};

}  // namespace kiln::serving
