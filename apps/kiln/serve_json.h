// KServe v2 (Open Inference Protocol) JSON for kiln serve: decoding infer requests and encoding
// responses, metadata, configurations, the repository index and statistics. Protocol only: the
// HTTP plumbing lives in serve_http.cpp.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "kiln/status.h"
#include "serve_binary.h"
#include "serving/inference.h"
#include "serving/inference_server.h"

namespace kiln::cli::serve {

// Fills request->id, inputs, outputs and parameters from an infer request body. Inputs with
// parameters.binary_data_size read their bytes from the binary part of the body, in order.
// binary_outputs_by_default: the request-level binary_data_output parameter.
// Inputs and outputs with shared-memory parameters are resolved in `shared_memory`.
Status decode_infer_request(const InferBody& body, const serving::SharedMemoryRegistry& shared_memory,
                            serving::InferenceRequest& request, bool& binary_outputs_by_default);

struct EncodedInferResponse {
  std::string body;
  size_t json_length = 0;  // < body.size() when binary tensor data follows the JSON
};
// Outputs requested with binary_data (or all, when binary_by_default) go after the JSON.
EncodedInferResponse encode_infer_response(const serving::InferenceResponse& response, bool binary_by_default);
std::string encode_error(const std::string& message);
std::string encode_server_metadata(const std::string& version);
std::string encode_model_metadata(const serving::ModelMetadata& metadata);
Result<std::string> encode_model_config(const serving::ModelConfig& config);
std::string encode_repository_index(const std::vector<serving::RepositoryEntry>& entries);
std::string encode_statistics(const std::vector<serving::VersionStatistics>& stats);
// A tensor of `shape` from a JSON array, nested or flat (also used by the TF Serving API).
Result<Tensor> decode_json_tensor(const std::string& name, DType dtype, const Shape& shape, const rapidjson::Value& data);
// {"ready": true} in a repository index request; false when absent.
Result<bool> decode_index_ready_flag(std::string_view body);
// The body of v2/systemsharedmemory/region/NAME/register: {"key", "offset", "byte_size"} (name unset).
Result<serving::SharedMemoryRegionStatus> decode_shared_memory_register(std::string_view body);
// The status endpoint's answer: [{"name", "key", "offset", "byte_size"}, ...].
std::string encode_shared_memory_status(const std::vector<serving::SharedMemoryRegionStatus>& regions);

// The body of v2/cudasharedmemory/region/NAME/register: {"raw_handle": {"b64": BASE64},
// "device_id", "byte_size"}; raw_handle comes back decoded (a serialized cudaIpcMemHandle_t).
struct CudaRegisterRequest {
  std::string raw_handle;
  int64_t device_id = 0;
  uint64_t byte_size = 0;
};
Result<CudaRegisterRequest> decode_cuda_shared_memory_register(std::string_view body);
// [{"name", "device_id", "byte_size"}, ...].
std::string encode_cuda_shared_memory_status(const std::vector<serving::CudaSharedMemoryRegionStatus>& regions);

}  // namespace kiln::cli::serve
