#include "serve_protocol.h"

#include <limits>
#include <utility>
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

Result<std::optional<serving::SharedMemorySpan>> shared_memory_span(const std::string& tensor,
                                                                     const std::map<std::string, ParameterValue>& parameters,
                                                                     const serving::SharedMemoryRegistry& registry) {
  auto region = parameters.find("shared_memory_region");
  auto size = parameters.find("shared_memory_byte_size");
  auto offset = parameters.find("shared_memory_offset");
  if (region == parameters.end() && size == parameters.end()) {
    if (offset != parameters.end()) return invalid_argument(tensor + " has shared_memory_offset but no shared_memory_region");
    return std::optional<serving::SharedMemorySpan>();
  }
  if (region == parameters.end() || size == parameters.end())
    return invalid_argument(tensor + " needs both shared_memory_region and shared_memory_byte_size");
  serving::SharedMemoryRef ref;
  const auto* name = std::get_if<std::string>(&region->second);
  if (name == nullptr || name->empty()) return invalid_argument(tensor + ": shared_memory_region must be a region's name");
  ref.region = *name;
  const std::optional<uint64_t> bytes = non_negative(size->second);
  if (!bytes) return invalid_argument(tensor + ": shared_memory_byte_size must be a non-negative integer");
  ref.byte_size = *bytes;
  if (offset != parameters.end()) {
    const std::optional<uint64_t> at = non_negative(offset->second);
    if (!at) return invalid_argument(tensor + ": shared_memory_offset must be a non-negative integer");
    ref.offset = *at;
  }
  Result<serving::SharedMemorySpan> span = registry.resolve(ref);
  if (!span.ok()) return Status(span.status().code(), tensor + ": " + span.status().message());
  return std::optional<serving::SharedMemorySpan>(std::move(*span));
}

}  // namespace kiln::cli::serve
