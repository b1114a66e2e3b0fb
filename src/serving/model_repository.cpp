#include "serving/model_repository.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <system_error>

namespace kiln::serving {
namespace fs = std::filesystem;

namespace {
constexpr size_t kMaxVersionDigits = 18;  // fits int64 without overflow
}

Status check_model_name(const std::string& name) {
  if (name.empty()) return invalid_argument("model name is empty");
  if (name == "." || name == ".." || name.front() == '.') {
    return invalid_argument("model name '" + name + "' is not allowed (hidden or relative directory names)");
  }
  for (char c : name) {
    if (c == '/' || c == '\\' || c == '\0' || static_cast<unsigned char>(c) < 0x20) {
      return invalid_argument("model name '" + name + "' is not allowed: it contains a path separator or control character");
    }
  }
  return {};
}

Result<int64_t> parse_version(const std::string& text) {
  if (text.empty() || text.size() > kMaxVersionDigits ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return invalid_argument("model version '" + text + "' is not a non-negative decimal number");
  }
  int64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

std::vector<int64_t> select_versions(const ModelVersionPolicy& policy, std::vector<int64_t> available) {
  std::sort(available.begin(), available.end(), std::greater<>());
  if (policy.has_all()) return available;
  if (policy.has_specific()) {
    std::vector<int64_t> chosen;
    for (int64_t v : available) {
      const auto& wanted = policy.specific().versions();
      if (std::find(wanted.begin(), wanted.end(), v) != wanted.end()) chosen.push_back(v);
    }
    return chosen;
  }
  const size_t count = policy.has_latest() ? policy.latest().num_versions() : 1;
  if (available.size() > count) available.resize(count);
  return available;
}

Result<std::vector<std::string>> ModelRepository::list_models() const {
  std::error_code ec;
  if (!fs::is_directory(root_, ec)) return not_found("model repository '" + root_ + "' is not a directory");
  std::vector<std::string> names;
  for (const fs::directory_entry& entry : fs::directory_iterator(root_, ec)) {
    if (!entry.is_directory(ec)) continue;
    const std::string name = entry.path().filename().string();
    if (!check_model_name(name).ok()) continue;
    names.push_back(name);
  }
  if (ec) return unavailable("cannot list model repository '" + root_ + "': " + ec.message());
  std::sort(names.begin(), names.end());
  return names;
}

Result<std::vector<int64_t>> ModelRepository::list_versions(const std::string& model) const {
  KILN_RETURN_IF_ERROR(check_model_name(model));
  std::error_code ec;
  const std::string directory = model_directory(model);
  if (!fs::is_directory(directory, ec)) return not_found("model '" + model + "' is not in the model repository");
  std::vector<int64_t> versions;
  for (const fs::directory_entry& entry : fs::directory_iterator(directory, ec)) {
    if (!entry.is_directory(ec)) continue;
    Result<int64_t> version = parse_version(entry.path().filename().string());
    if (version.ok()) versions.push_back(*version);
  }
  if (ec) return unavailable("cannot list '" + directory + "': " + ec.message());
  return versions;
}

bool ModelRepository::has_config(const std::string& model) const {
  std::error_code ec;
  return fs::is_regular_file(config_path(model), ec);
}

std::string ModelRepository::default_model_file(const std::string& model, int64_t version) const {
  const std::string plan = model_file(model, version, kDefaultPlanFileName);
  std::error_code error;
  if (std::filesystem::is_regular_file(plan, error)) return plan;
  return model_file(model, version, kDefaultModelFileName);
}

}  // namespace kiln::serving
