// What the KServe v2 front ends (HTTP/JSON and gRPC) share beyond the wire format: the server's
// identity, the extensions it announces and the request parameters that carry a meaning to the
// server (Triton's reserved names). Each front end turns its wire form of a parameter into a
// ParameterValue and applies it here, so priority and timeout mean the same on every transport.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>

#include "kiln/status.h"
#include "serving/inference.h"
#include "serving/shared_memory.h"

namespace kiln::cli::serve {

inline constexpr const char* kServerName = "kiln";
inline constexpr std::array<const char*, 6> kServerExtensions = {"binary_tensor_data", "model_configuration", "model_repository",
                                                                 "statistics", "system_shared_memory", "cuda_shared_memory"};

using ParameterValue = std::variant<bool, int64_t, uint64_t, double, std::string>;

// "priority" and "timeout" set the request's scheduling fields (a wrong type or range is an
// INVALID_ARGUMENT naming the parameter); string values of other keys pass through to
// request.parameters; anything else is ignored, as the protocol allows.
Status apply_request_parameter(const std::string& key, const ParameterValue& value, serving::InferenceRequest& request);

// A tensor's shared-memory parameters (shared_memory_region, shared_memory_byte_size and the
// optional shared_memory_offset), resolved in `registry`; nullopt when the tensor has none.
// `tensor` names it in errors ("input 'x'").
// Only one of region and byte size, a wrong type, an unknown region or a span past its end is an
// error naming the tensor.
Result<std::optional<serving::SharedMemorySpan>> shared_memory_span(const std::string& tensor,
                                                                     const std::map<std::string, ParameterValue>& parameters,
                                                                     const serving::SharedMemoryRegistry& registry);

}  // namespace kiln::cli::serve
