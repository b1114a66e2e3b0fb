// The on-disk engine cache of kiln serve: an ONNX model version is built into a plan once per
// (model bytes, device, precision, profiles, kiln release, build choices) and reopened from the
// cache on later loads, so restarts skip the build.
//
// Entries are `<dir>/<model>.<version>.<key>.plan`, key = SHA-256 (hex) of a text naming every
// input of the build (see cache_key_text). A plan is written to a temporary file in the same
// directory and renamed into place, so concurrent servers and crashes never leave a torn entry
// under the final name; an entry the plan loader refuses (damaged, another kiln release or
// device architecture) is rebuilt and replaced. Where the directory cannot be written (a
// read-only repository), the engine is built in memory and a warning logged.
//
// Builds into a cache directory share its timing cache (`timing.cache`, keyed per node, device
// and kiln release), so a second model with the same layers, or a rebuild after a cache entry
// went, skips the tactic timing. With a size limit, storing an entry evicts the least recently
// used others (by modification time; a hit touches its entry) until the `.plan` entries fit;
// the entry just stored is never evicted, and engines already open keep their mapping.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kiln/builder.h"
#include "kiln/session.h"
#include "kiln/status.h"
#include "serving/server_log.h"

namespace kiln::serving {

struct EngineRequest {
  std::string model_path;  // the .onnx file; every file next to it (external weights) is keyed too
  std::string label;       // "model 'm' version 1": prefixes the log lines
  std::string entry_name;  // "<model>.<version>": makes cache entries recognisable
  BuildSettings settings;  // profiles, precision, backends; progress is set by the cache
  std::vector<int64_t> batch_sizes;  // each profile's batch size, for the log; empty: the model does not batch
  BuildTarget target;      // build_target(settings.backends)
  bool cuda_graphs = true; // a runtime choice (not part of the key: plans do not depend on it)
  int cpu_threads = 0;     // also a runtime choice: the CPU kernels' threads when the plan loads
};

struct OpenedEngine {
  std::unique_ptr<Session> session;
  bool cache_hit = false;
  std::string plan_path;  // the cache entry; empty when the engine was built in memory
};

// The text whose SHA-256 is the cache key: one "name value" line per build input.
Result<std::string> cache_key_text(const EngineRequest& request);
// Lower-case hex SHA-256 of `bytes`.
std::string sha256_hex(const std::string& bytes);

class EngineCache {
 public:
  // An empty directory: no cache, every engine is built in memory. max_bytes 0: no limit.
  EngineCache(std::string directory, LogFn log, uint64_t max_bytes = 0);

  // The cached engine when the cache has a good one; else builds it (logging progress), stores
  // it and opens it.
  Result<OpenedEngine> open(const EngineRequest& request) const;

  const std::string& directory() const { return directory_; }

 private:
  Result<OpenedEngine> build_in_memory(const EngineRequest& request) const;
  Status build(const EngineRequest& request, const std::string& plan_path, const std::string& timing_cache) const;
  void evict_beyond_limit(const std::string& keep) const;

  std::string directory_;
  LogFn log_;
  uint64_t max_bytes_ = 0;
};

}  // namespace kiln::serving
