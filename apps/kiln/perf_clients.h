// The clients `kiln perf` drives a server with, one per worker thread: KServe v2 over HTTP (the
// binary tensor extension, one keep-alive connection) or over gRPC (raw_input_contents, one
// channel). Both learn the model's inputs from its metadata first and send the same random
// tensors on every request.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kiln/status.h"
#include "perf_tls.h"

namespace kiln::cli::perf {

enum class Protocol { kHttp, kGrpc };

struct TargetOptions {
  std::string host = "127.0.0.1";
  int port = 0;
  Protocol protocol = Protocol::kHttp;
  std::string model;
  std::string version;                  // empty: the server's choice
  int64_t batch = 1;                    // replaces a leading -1 (batch) dim
  std::vector<std::string> shapes;      // NAME:DxD for other -1 dims
  double timeout_s = 30;                // per request
  // --shared-memory system: inputs and outputs in a POSIX shared-memory region per client.
  bool system_shared_memory = false;
  size_t output_shared_memory_bytes = 100 << 10;  // room per output (perf_analyzer's default)
  std::shared_ptr<const TlsClientContext> tls;    // set: HTTPS / gRPC over TLS
};

// One input as the model's metadata declares it, with the shape requests use.
struct InputSpec {
  std::string name;
  std::string datatype;  // KServe name: FP32, INT64, ...
  std::vector<int64_t> shape;
  std::string bytes;     // the random tensor, little-endian, row-major
  bool batched = false;  // dim 0 was variable and took --batch
};

struct ModelSpec {
  std::vector<InputSpec> inputs;
  std::vector<std::string> outputs;  // names, as the metadata lists them
};

// The metadata of `options.model` over the chosen protocol, with concrete shapes and random
// data (floats uniform in [-1, 1], integers in [0, 8) as `kiln bench` draws them).
Result<ModelSpec> describe_model(const TargetOptions& options, uint64_t seed);

class Client {
 public:
  virtual ~Client() = default;
  // One inference; an error names what the server answered.
  virtual Status infer() = 0;
  // Response bytes received so far (payload only), for the throughput line.
  virtual uint64_t bytes_received() const = 0;
};

// With options.system_shared_memory the client's region is created and registered here.
Result<std::unique_ptr<Client>> make_client(const TargetOptions& options, const ModelSpec& model);

}  // namespace kiln::cli::perf
