// KServe v2 gRPC messages <-> kiln's transport-independent serving types. Protocol only: the
// gRPC plumbing (service, threads, credentials) lives in serve_grpc.cpp.
#pragma once

#include <vector>

#include "grpc_service.pb.h"
#include "kiln/status.h"
#include "serve_binary.h"
#include "serving/inference.h"
#include "serving/inference_server.h"

namespace kiln::cli::serve {

// Fills `request` (id, inputs, outputs, parameters; the caller sets model name and version).
// Raw input contents are moved out of `message`, not copied, and the tensors own them, so the
// message may be reused or destroyed right after this returns.
// Inputs and outputs with shared-memory parameters are resolved in `shared_memory`.
Status decode_model_infer_request(inference::ModelInferRequest& message, const serving::SharedMemoryRegistry& shared_memory,
                                  serving::InferenceRequest& request);

// As above, with the raw input contents already out of the message (serve_grpc_wire.h reads them
// from the wire straight into transfer buffers), in order; the message's own are ignored.
Status decode_model_infer_request(const inference::ModelInferRequest& message, const std::vector<InferBody>& raw_contents,
                                  const serving::SharedMemoryRegistry& shared_memory, serving::InferenceRequest& request);

// Outputs always travel as raw_output_contents, one per output in order, as Triton answers.
void encode_model_infer_response(const serving::InferenceResponse& response, inference::ModelInferResponse& message);
void encode_model_metadata(const serving::ModelMetadata& metadata, inference::ModelMetadataResponse& message);
void encode_statistics(const std::vector<serving::VersionStatistics>& stats, inference::ModelStatisticsResponse& message);
void encode_repository_index(const std::vector<serving::RepositoryEntry>& entries, inference::RepositoryIndexResponse& message);

}  // namespace kiln::cli::serve
