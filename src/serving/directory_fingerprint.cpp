#include "serving/directory_fingerprint.h"

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <vector>

namespace kiln::serving {
namespace fs = std::filesystem;

std::string directory_fingerprint(const std::string& directory) {
  std::error_code ec;
  std::vector<std::string> entries;
  fs::recursive_directory_iterator it(directory, fs::directory_options::none, ec);
  if (ec) return "";
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return "";
    const fs::path& path = it->path();
    if (path.filename().string().starts_with(".")) {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    std::string entry = fs::relative(path, directory, ec).generic_string();
    if (it->is_regular_file(ec)) {
      const auto size = it->file_size(ec);
      const auto modified = it->last_write_time(ec).time_since_epoch().count();
      entry += '\t' + std::to_string(size) + '\t' + std::to_string(modified);
    } else {
      entry += "/";  // an empty version directory counts too: it changes which versions exist
    }
    entries.push_back(std::move(entry));
  }
  // Directory order is unspecified: sort so that an unchanged tree always reads the same.
  std::sort(entries.begin(), entries.end());
  std::string fingerprint;
  for (const std::string& entry : entries) fingerprint += entry + '\n';
  return fingerprint;
}

}  // namespace kiln::serving
