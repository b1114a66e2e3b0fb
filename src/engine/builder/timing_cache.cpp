#include "engine/builder/timing_cache.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/temporary_name.h"
#include "plan/plan_file.h"

namespace kiln::engine {

Result<TimingCache> TimingCache::load(const std::string& path) {
  TimingCache cache;
  std::ifstream in(path);
  if (!in) return cache;
  std::string line;
  int line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (line.empty()) continue;
    const size_t a = line.find('\t');
    const size_t b = a == std::string::npos ? a : line.find('\t', a + 1);
    if (b == std::string::npos)
      return invalid_argument("timing cache '" + path + "' line " + std::to_string(line_number) + " is malformed");
    try {
      cache.entries_[line.substr(0, a)] =
          TimedTactic{static_cast<int32_t>(std::stol(line.substr(a + 1, b - a - 1))), std::stod(line.substr(b + 1))};
    } catch (const std::exception&) {
      return invalid_argument("timing cache '" + path + "' line " + std::to_string(line_number) + " has a bad number");
    }
  }
  return cache;
}

// Written beside the final name and renamed over it: builds that overlap (kiln serve loads
// models on several threads) or a crash never leave a torn file that the next load refuses.
Status TimingCache::save(const std::string& path) const {
  const std::string temporary = temporary_name(path);
  {
    std::ofstream out(temporary, std::ios::trunc);
    if (!out) return invalid_argument("cannot write timing cache '" + path + "'");
    for (const auto& [key, timed] : entries_) out << key << '\t' << timed.tactic << '\t' << timed.ms << '\n';
    out.flush();
    if (!out) {
      std::error_code ignored;
      std::filesystem::remove(temporary, ignored);
      return data_loss("writing timing cache '" + path + "' failed");
    }
  }
  std::error_code ec;
  std::filesystem::rename(temporary, path, ec);
  if (ec) {
    std::error_code ignored;
    std::filesystem::remove(temporary, ignored);
    return invalid_argument("cannot write timing cache '" + path + "': " + ec.message());
  }
  return {};
}

std::string TimingCache::key(const backends::Backend& backend, const backends::NodeDesc& node, const std::string& device) {
  std::ostringstream k;
  k << backend.name() << '|' << op_kind_name(node.op) << '|' << node.attrs().to_string() << '|';
  for (const backends::TensorDesc& d : node.inputs) k << dtype_name(d.dtype) << d.shape.to_string() << ',';
  k << "->";
  for (const backends::TensorDesc& d : node.outputs) k << dtype_name(d.dtype) << d.shape.to_string() << ',';
  k << '|' << (node.allow_tf32 ? "tf32" : "") << '|' << device << '|' << plan::kiln_version();
  std::string s = k.str();
  for (char& c : s)
    if (c == '\t' || c == '\n') c = ' ';
  return s;
}

std::optional<TimedTactic> TimingCache::find(const std::string& key) const {
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

void TimingCache::insert(const std::string& key, TimedTactic timed) { entries_[key] = timed; }

}  // namespace kiln::engine
