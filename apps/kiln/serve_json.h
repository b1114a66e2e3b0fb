// KServe v2 (Open Inference Protocol) JSON for kiln serve: decoding infer requests and encoding
// responses, metadata, configurations, the repository index and statistics. Protocol only: the
// HTTP plumbing lives in serve_http.cpp.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "kiln/status.h"
#include "serving/inference.h"
#include "serving/inference_server.h"

namespace kiln::cli::serve {

// Fills request->id, inputs, outputs and parameters from an infer request body.
Status decode_infer_request(std::string_view body, serving::InferenceRequest& request);

std::string encode_infer_response(const serving::InferenceResponse& response);
std::string encode_error(const std::string& message);
std::string encode_server_metadata(const std::string& version);
std::string encode_model_metadata(const serving::ModelMetadata& metadata);
Result<std::string> encode_model_config(const serving::ModelConfig& config);
std::string encode_repository_index(const std::vector<serving::RepositoryEntry>& entries);
std::string encode_statistics(const std::vector<serving::VersionStatistics>& stats);
// {"ready": true} in a repository index request; false when absent.
Result<bool> decode_index_ready_flag(std::string_view body);

}  // namespace kiln::cli::serve
