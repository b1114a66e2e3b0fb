// libFuzzer entry point for what kiln serve decodes from the network: arbitrary bytes as a KServe
// v2 HTTP infer body (JSON, with binary tensors after an Inference-Header-Content-Length taken from
// the input), as a gRPC ModelInferRequest (protobuf wire bytes), as a TF-Serving :predict body and
// as a shared-memory register body; responses are encoded back for what decodes. Errors are the
// expected outcome; a crash, leak or undefined behaviour is a bug.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "grpc_service.pb.h"
#include "serve_grpc_codec.h"
#include "serve_grpc_wire.h"
#include "serve_json.h"
#include "serve_tfs.h"
#include "serving/shared_memory.h"

namespace {

using kiln::serving::InferenceRequest;

// A model with one FP32 input [-1, 4] and one output, for the TF-Serving decoder.
kiln::serving::ModelMetadata metadata() {
  kiln::serving::ModelMetadata m;
  m.name = "m";
  m.versions = {"1"};
  m.platform = "onnxruntime_onnx";
  m.inputs = {{"x", "FP32", {-1, 4}}};
  m.outputs = {{"y", "FP32", {-1, 4}}};
  return m;
}

void fuzz_http(const std::string& bytes) {
  // The first two bytes choose where the JSON ends (as the header would), the rest is the body.
  if (bytes.size() < 2) return;
  const size_t claimed = (static_cast<unsigned char>(bytes[0]) << 8) | static_cast<unsigned char>(bytes[1]);
  kiln::cli::serve::InferBody body = kiln::cli::serve::infer_body_of(bytes.substr(2));
  body.json_length = claimed < body.bytes.size() ? claimed : body.bytes.size();
  static const kiln::serving::SharedMemoryRegistry no_regions(false);
  InferenceRequest request;
  bool binary = false;
  (void)kiln::cli::serve::decode_infer_request(body, no_regions, request, binary);
}

// The wire splitter kiln serve's unary ModelInfer uses, on the same bytes cut in three pieces.
void fuzz_grpc_wire(const std::string& bytes) {
  static kiln::serving::TransferBufferPool pool(size_t{64} << 20);
  const std::string_view all(bytes);
  const size_t a = bytes.size() / 3;
  const size_t b = 2 * bytes.size() / 3;
  inference::ModelInferRequest message;
  std::vector<kiln::cli::serve::InferBody> raw;
  if (!kiln::cli::serve::split_model_infer_request({all.substr(0, a), all.substr(a, b - a), all.substr(b)}, pool, message, raw).ok()) return;
  static const kiln::serving::SharedMemoryRegistry no_regions(false);
  InferenceRequest request;
  (void)kiln::cli::serve::decode_model_infer_request(message, raw, no_regions, request);
}

void fuzz_grpc(const std::string& bytes) {
  fuzz_grpc_wire(bytes);
  inference::ModelInferRequest message;
  if (!message.ParseFromString(bytes)) return;
  static const kiln::serving::SharedMemoryRegistry no_regions(false);
  InferenceRequest request;
  if (!kiln::cli::serve::decode_model_infer_request(message, no_regions, request).ok()) return;
  // What decoded goes back out as a response of the same tensors.
  kiln::serving::InferenceResponse response;
  for (const auto& input : request.inputs) response.outputs.push_back(input);
  inference::ModelInferResponse encoded;
  kiln::cli::serve::encode_model_infer_response(response, encoded);
  (void)kiln::cli::serve::encode_infer_response(response, true);
}

void fuzz_tfs(const std::string& bytes) {
  static const kiln::serving::ModelMetadata meta = metadata();
  InferenceRequest request;
  (void)kiln::cli::serve::decode_tfs_predict(bytes, meta, request);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0: fuzz_http(bytes); break;
    case 1: fuzz_grpc(bytes); break;
    case 2: fuzz_tfs(bytes); break;
    default: (void)kiln::cli::serve::decode_shared_memory_register(bytes); break;
  }
  return 0;
}
