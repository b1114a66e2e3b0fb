#include "serve_api_key.h"

#include <cstdlib>
#include <fstream>

namespace kiln::cli::serve {
namespace {

constexpr std::string_view kBearerPrefix = "Bearer ";
constexpr const char* kWhitespace = " \t\r\n";

std::string trimmed(const std::string& text) {
  const size_t begin = text.find_first_not_of(kWhitespace);
  if (begin == std::string::npos) return "";
  return text.substr(begin, text.find_last_not_of(kWhitespace) - begin + 1);
}

}  // namespace

Result<ApiKey> ApiKey::load(const std::string& file) {
  ApiKey result;
  std::string key;
  if (!file.empty()) {
    std::ifstream in(file);
    if (!in) return invalid_argument("--api-key-file " + file + ": cannot be read");
    std::getline(in, key);
    key = trimmed(key);
    if (key.empty()) return invalid_argument("--api-key-file " + file + ": the first line holds no key");
  } else if (const char* from_environment = std::getenv(kApiKeyEnvironmentVariable)) {
    key = trimmed(from_environment);
    if (key.empty()) return invalid_argument(std::string(kApiKeyEnvironmentVariable) + " is set but empty");
  } else {
    return result;
  }
  result.key_ = std::move(key);
  return result;
}

bool ApiKey::accepts(std::string_view authorization) const {
  if (!key_) return true;
  if (authorization.substr(0, kBearerPrefix.size()) != kBearerPrefix) return false;
  const std::string_view offered = authorization.substr(kBearerPrefix.size());
  const std::string& expected = *key_;
  unsigned difference = offered.size() == expected.size() ? 0u : 1u;
  for (size_t i = 0; i < expected.size(); ++i) {
    const char offered_char = i < offered.size() ? offered[i] : '\0';
    difference |= static_cast<unsigned>(static_cast<unsigned char>(offered_char ^ expected[i]));
  }
  return difference == 0;
}

}  // namespace kiln::cli::serve
