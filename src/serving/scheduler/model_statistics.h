// Per model version counters, the numbers Triton's statistics extension reports: request
// outcomes and the time spent in each phase, per batch size too.
#pragma once

#include <cstdint>
#include <map>

namespace kiln::serving {

struct DurationStat {
  uint64_t count = 0;
  uint64_t ns = 0;
  void add(uint64_t duration_ns) {
    ++count;
    ns += duration_ns;
  }
};

struct BatchStat {
  DurationStat compute_input;
  DurationStat compute_infer;
  DurationStat compute_output;
};

struct ModelStatistics {
  uint64_t last_inference_ms = 0;  // milliseconds since the epoch; 0: never
  uint64_t inference_count = 0;    // requests' batch sizes summed (a batch-4 request counts 4)
  uint64_t execution_count = 0;    // model executions (one per formed batch)
  DurationStat success;            // request durations, queued to completion
  DurationStat fail;
  DurationStat queue;
  DurationStat compute_input;
  DurationStat compute_infer;
  DurationStat compute_output;
  std::map<uint64_t, BatchStat> batch_stats;  // by executed batch size
};

}  // namespace kiln::serving
