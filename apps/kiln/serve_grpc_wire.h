// A ModelInferRequest as it came off the wire, split before protobuf sees it: each
// raw_input_contents entry (field 7, the tensor bytes, megabytes for an image batch) is copied
// once from the received pieces into a transfer buffer (serving/transfer_buffer_pool.h), which
// is page-locked on a GPU machine; everything else is parsed by protobuf as usual. Parsing the
// whole message instead copied the tensor bytes into a fresh std::string (page faults included),
// and the execution context then copied them again into its page-locked staging buffer.
#pragma once

#include <string_view>
#include <vector>

#include "grpc_service.pb.h"
#include "kiln/status.h"
#include "serve_binary.h"
#include "serving/transfer_buffer_pool.h"

namespace kiln::cli::serve {

// `pieces` are the serialized message's bytes in order (gRPC's slices). On success `message`
// holds every field but raw_input_contents, and `raw_contents` those, in order. A truncated or
// malformed message is an invalid-argument error naming what is wrong.
Status split_model_infer_request(const std::vector<std::string_view>& pieces, serving::TransferBufferPool& pool,
                                 inference::ModelInferRequest& message, std::vector<InferBody>& raw_contents);

}  // namespace kiln::cli::serve
