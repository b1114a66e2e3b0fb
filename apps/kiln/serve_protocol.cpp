#include "serve_protocol.h"

#include <limits>
#include <optional>

namespace kiln::cli::serve {
namespace {

std::optional<uint64_t> non_negative(const ParameterValue& value) {
  if (const auto* u = std::get_if<uint64_t>(&value)) return *u;
  if (const auto* i = std::get_if<int64_t>(&value); i && *i >= 0) return static_cast<uint64_t>(*i);
  return std::nullopt;
}

}  // namespace

Status apply_request_parameter(const std::string& key, const ParameterValue& value, serving::InferenceRequest& request) {
  if (key == "priority") {
    const std::optional<uint64_t> priority = non_negative(value);
    if (!priority || *priority > std::numeric_limits<uint32_t>::max()) {
      return invalid_argument("parameter 'priority' must be a non-negative integer that fits 32 bits");
    }
    request.priority = static_cast<uint32_t>(*priority);
    return {};
  }
  if (key == "timeout") {
    const std::optional<uint64_t> timeout = non_negative(value);
    if (!timeout) return invalid_argument("parameter 'timeout' must be a non-negative integer (microseconds)");
    request.timeout_us = *timeout;
    return {};
  }
  if (const auto* text = std::get_if<std::string>(&value)) request.parameters[key] = *text;
  return {};
}

}  // namespace kiln::cli::serve
