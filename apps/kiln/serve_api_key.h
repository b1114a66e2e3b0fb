// The optional API key of kiln serve's model-control endpoints (repository index, load, unload)
// on every transport. Clients send it as "Authorization: Bearer <key>" (an HTTP header, or the
// gRPC metadata key "authorization"); inference and health stay open so that load balancers and
// clients need no secret.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "kiln/status.h"

namespace kiln::cli::serve {

inline constexpr const char* kApiKeyEnvironmentVariable = "KILN_API_KEY";
inline constexpr const char* kAuthorizationHeader = "Authorization";
inline constexpr const char* kAuthorizationMetadataKey = "authorization";  // gRPC metadata keys are lower case

class ApiKey {
 public:
  // From --api-key-file (the first line; surrounding whitespace dropped) or, when no file is
  // given, the KILN_API_KEY environment variable; neither: no key is required.
  static Result<ApiKey> load(const std::string& file);

  bool required() const { return key_.has_value(); }
  // True when no key is required or `authorization` is "Bearer <key>". The comparison takes the
  // same time wherever the first difference is, so timing does not reveal the key.
  bool accepts(std::string_view authorization) const;

 private:
  std::optional<std::string> key_;
};

// The error both transports report for a missing or wrong key (HTTP 401, gRPC UNAUTHENTICATED).
inline constexpr const char* kUnauthenticatedMessage =
    "this endpoint needs the server's API key: send 'Authorization: Bearer <key>'";

}  // namespace kiln::cli::serve
