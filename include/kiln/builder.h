// Building engines: an .onnx model becomes a .plan file for one device (kiln build). The plan
// runs with Session::open, kiln run/bench/serve, without the importer or the optimizer.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "kiln/shape.h"
#include "kiln/status.h"

namespace kiln {

struct BuildProgressInfo {
  size_t done = 0;
  size_t total = 0;
  std::string node;
  std::string implementation;  // "cuda: cudnn engine 3", "view"
  bool timed = false;
  size_t profile = 0;
  size_t profiles = 1;
};

// One timed candidate of one node (kiln build --verbose, as trtexec --verbose lists them).
struct TacticTimingInfo {
  std::string node;
  std::string tactic;
  double ms = 0;       // mean of the timing runs; a lower bound after one run when cut short
  bool cut_short = false;  // more than twice the best so far after one run: not timed further
};

struct BuildSettings {
  std::map<std::string, Shape> shapes;  // concrete sizes for dynamic input dims
  // Several optimization profiles, each a complete engine for its shapes (overrides `shapes`).
  // Sessions run a profile's exact shapes, and pad smaller batches up to the next profile.
  std::vector<std::map<std::string, Shape>> profiles;
  std::string precision = "fp32";        // fp32, tf32, fp16, bf16
  std::vector<std::string> backends;     // preference order; empty: the fastest device here
  std::string timing_cache;              // file reused across builds; empty: none
  bool optimize = true;
  // Channels-last convs and pools even where the backends are not CUDA (which always gets them).
  bool channels_last = false;
  // erf GELU as its tanh approximation (max deviation 4.7e-4), so GPU GEMMs apply it in their
  // epilogue: faster transformer FFNs, slightly different results. Off by default.
  bool approximate_gelu = false;
  // fp16/bf16 builds: the model's float32 inputs and outputs take that type too (trtexec's
  // --inputIOFormats/--outputIOFormats fp16): half the bytes per request. Off by default.
  bool low_precision_io = false;
  std::function<void(const BuildProgressInfo&)> progress;
  std::function<void(const TacticTimingInfo&)> tactic_timed;  // every candidate timed, when set
};

struct BuildSummary {
  std::string device;
  size_t profiles = 1;  // the counts below are profile 0's
  size_t steps = 0;
  size_t views = 0;
  size_t tactics_timed = 0;
  size_t timing_cache_hits = 0;
  uint64_t arena_bytes = 0;
  uint64_t naive_activation_bytes = 0;
  uint64_t weights_bytes = 0;
  std::map<std::string, size_t> steps_per_backend;
};

Result<BuildSummary> build_plan(const std::string& model_path, const std::string& plan_path, const BuildSettings& settings);

// The device a build with these BuildSettings::backends would target on this machine, found
// without building: callers key engine caches by it, and fail early where it is missing (an
// unknown backend, a backend not in this build, "cuda" on a machine without a GPU).
struct BuildTarget {
  std::string device_kind;   // "cuda" or "host", as plans record it
  std::string device_arch;   // "sm_90", "x86_64": plans are refused on another architecture
  std::string device_name;   // "NVIDIA H200"
  std::string kiln_version;  // plans are refused by another kiln release
};

Result<BuildTarget> build_target(const std::vector<std::string>& backends);

}  // namespace kiln
