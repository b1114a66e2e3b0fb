// The builder's timing cache: which tactic won for a node signature (backend, op, attributes,
// tensor types, device, kiln version), so rebuilding a model, or another model with the same
// layers, skips the timing. A text file, one entry per line: key TAB tactic-id TAB milliseconds.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "backends/backend.h"
#include "kiln/status.h"

namespace kiln::engine {

struct TimedTactic {
  int32_t tactic = 0;
  double ms = 0;
};

class TimingCache {
 public:
  // A missing file is an empty cache; a malformed line is an error naming the line.
  static Result<TimingCache> load(const std::string& path);
  Status save(const std::string& path) const;

  static std::string key(const backends::Backend& backend, const backends::NodeDesc& node, const std::string& device);
  std::optional<TimedTactic> find(const std::string& key) const;
  void insert(const std::string& key, TimedTactic timed);
  size_t size() const { return entries_.size(); }

 private:
  std::map<std::string, TimedTactic> entries_;
};

}  // namespace kiln::engine
