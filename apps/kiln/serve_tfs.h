// The TensorFlow Serving REST API (v1) on kiln serve's HTTP port: model status, metadata and
// predict in the row ("instances") and columnar ("inputs") formats. Protocol only: routing
// and replies live in serve_http.cpp.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "kiln/status.h"
#include "serving/inference.h"
#include "serving/inference_server.h"

namespace kiln::cli::serve {

enum class TfsAction { kStatus, kMetadata, kPredict };

struct TfsPath {
  std::string model;
  std::string version;  // "": the latest
  TfsAction action = TfsAction::kStatus;
};

// Parses the path segments after "v1": models/{name}[/versions/{v}][/metadata | :predict].
Result<TfsPath> parse_tfs_path(const std::vector<std::string>& segments);

std::string encode_tfs_model_status(const serving::ModelMetadata& metadata);
std::string encode_tfs_metadata(const serving::ModelMetadata& metadata, const std::string& version);

enum class TfsFormat { kRow, kColumnar };

// Fills request.inputs from a predict body, using the model's metadata for names and types.
Result<TfsFormat> decode_tfs_predict(std::string_view body, const serving::ModelMetadata& metadata,
                                     serving::InferenceRequest& request);
// {"predictions": [...]} for the row format, {"outputs": ...} for the columnar one.
Result<std::string> encode_tfs_predict_response(TfsFormat format, const serving::InferenceResponse& response);

}  // namespace kiln::cli::serve
