#include "known_data_errors.h"

#include <fstream>

namespace kiln::conformance {
namespace {

constexpr const char* kBlanks = " \t\r";

std::string trim(const std::string& text) {
  const size_t begin = text.find_first_not_of(kBlanks);
  if (begin == std::string::npos) return "";
  return text.substr(begin, text.find_last_not_of(kBlanks) - begin + 1);
}

}  // namespace

Result<KnownDataErrors> read_known_data_errors(const std::string& path) {
  std::ifstream in(path);
  if (!in) return not_found("cannot open the known data errors file '" + path + "'");
  KnownDataErrors entries;
  std::string line;
  for (int line_number = 1; std::getline(in, line); ++line_number) {
    const std::string text = trim(line);
    if (text.empty() || text.front() == '#') continue;
    const std::string where = path + ":" + std::to_string(line_number);
    const size_t name_end = text.find_first_of(kBlanks);
    if (name_end == std::string::npos) return invalid_argument(where + ": '" + text + "' has no reason after the test name");
    const std::string name = text.substr(0, name_end);
    const std::string reason = trim(text.substr(name_end));
    if (!entries.emplace(name, reason).second) return invalid_argument(where + ": test '" + name + "' is listed twice");
  }
  return entries;
}

}  // namespace kiln::conformance
