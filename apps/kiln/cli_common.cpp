#include "cli_common.h"

#include <cmath>
#include <cstdio>
#include <filesystem>

#include <fmt/core.h>

namespace kiln::cli {
namespace {

constexpr double kSiStep = 1000.0;
constexpr double kBinaryStep = 1024.0;
constexpr const char* kSiPrefixes[] = {"", " K", " M", " G", " T", " P", " E"};
constexpr const char* kBinaryUnits[] = {" B", " KiB", " MiB", " GiB", " TiB", " PiB", " EiB"};
constexpr size_t kNumPrefixes = std::size(kSiPrefixes);

std::string scaled(double value, double step, const char* const* units, int precision_for_scaled) {
  size_t unit = 0;
  double v = value;
  while (std::fabs(v) >= step && unit + 1 < kNumPrefixes) {
    v /= step;
    ++unit;
  }
  int precision = unit == 0 ? 0 : precision_for_scaled;
  return fmt::format("{:.{}f}{}", v, precision, units[unit]);
}

}  // namespace

int report_error(const std::string& message) {
  std::string one_line = message;
  for (char& c : one_line)
    if (c == '\n' || c == '\r') c = ' ';
  std::fprintf(stderr, "kiln: error: %s\n", one_line.c_str());
  return kExitError;
}

Result<std::map<std::string, Shape>> parse_shape_specs(const std::vector<std::string>& specs) {
  std::map<std::string, Shape> shapes;
  for (const std::string& spec : specs) {
    size_t start = 0;
    while (start <= spec.size()) {
      size_t end = spec.find(',', start);
      if (end == std::string::npos) end = spec.size();
      const std::string entry = spec.substr(start, end - start);
      start = end + 1;
      const size_t colon = entry.rfind(':');
      if (colon == std::string::npos || colon == 0 || colon + 1 == entry.size())
        return invalid_argument("malformed --shapes entry '" + entry + "': expected NAME:DxDxD (e.g. input:1x3x224x224)");
      const std::string name = entry.substr(0, colon);
      const std::string dims = entry.substr(colon + 1);
      std::optional<Shape> shape = Shape::parse(dims);
      if (!shape)
        return invalid_argument("malformed --shapes entry '" + entry + "': '" + dims +
                                "' is not a shape like 1x3x224x224 (non-negative integers separated by 'x')");
      if (!shapes.emplace(name, *shape).second)
        return invalid_argument("--shapes gives input '" + name + "' more than once");
    }
  }
  return shapes;
}

Status check_model_file(const std::string& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(status)) return not_found("model file '" + path + "' does not exist");
  if (std::filesystem::is_directory(status)) return invalid_argument("model path '" + path + "' is a directory, not a model file");
  return {};
}

std::string human_count(double value) { return scaled(value, kSiStep, kSiPrefixes, 2); }

std::string human_bytes(double bytes) { return scaled(bytes, kBinaryStep, kBinaryUnits, 1); }

std::string sanitize_file_name(const std::string& name) {
  std::string out;
  for (char c : name) {
    bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                c == '-';
    out += safe ? c : '_';
  }
  if (out.empty() || out.front() == '.') out = "output_" + out;
  return out;
}

}  // namespace kiln::cli
