// The engine builder: an imported model becomes a plan. In order: fix the input shapes, run
// the graph optimizer, lower the storage precision, choose a backend and a tactic for every node
// (timing the candidates, with a timing cache), plan activation memory by liveness, and lay out
// the constants. The result is written with plan::write_plan and loaded by runtime::Engine.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "kiln/shape.h"
#include "kiln/status.h"
#include "plan/plan.pb.h"

namespace kiln::engine {

enum class Precision { kFloat32, kTF32, kFloat16, kBFloat16 };
const char* precision_name(Precision precision);
Result<Precision> precision_from_name(const std::string& name);

struct BuildProgress {
  size_t done = 0;
  size_t total = 0;
  std::string node;
  std::string backend;
  std::string tactic;
  bool timed = false;      // the tactics were timed (not taken from the cache, not a single choice)
  size_t profile = 0;      // which profile is being built, of `profiles`
  size_t profiles = 1;
};

using InputShapes = std::map<std::string, Shape>;

struct BuildOptions {
  InputShapes shapes;                    // concrete sizes for dynamic input dims (one profile)
  // Several profiles: one complete engine per entry (its own kernels and memory plan), sharing
  // the weights. Overrides `shapes`; needs a GraphSource (each profile optimizes its own graph).
  std::vector<InputShapes> profiles;
  Precision precision = Precision::kFloat32;
  // Backends by name, in preference order; all must live on one device kind. Empty: the
  // fastest device this build has (cuda when present, else the host backends).
  std::vector<std::string> backends;
  bool optimize = true;                  // run the graph optimizer (passes/pipeline.cpp)
  // Channels-last convs and pools (passes/layout/channels_last.h). Builds for CUDA backends
  // always do it; this forces it on host backends too (the reference backend runs the
  // attribute, which is how tests prove the rewritten graph right).
  bool channels_last = false;
  // erf GELU as its tanh approximation (passes/precision/approximate_gelu.h); changes results.
  bool approximate_gelu = false;
  // fp16/bf16 builds: float32 inputs and outputs take the build's precision too
  // (passes/precision/lower_float_precision.h); clients convert.
  bool low_precision_io = false;
  std::string timing_cache_path;         // empty: no cache file
  int timing_iterations = 10;
  std::string source_model;              // recorded in the plan
  std::function<void(const BuildProgress&)> progress;
  // Called for every candidate timed: node, tactic name, ms, and whether timing was cut short.
  std::function<void(const std::string&, const std::string&, double, bool)> tactic_timed;
};

struct BuildResult {
  plan::PlanHeader header;
  std::vector<uint8_t> weights;
  size_t tactics_timed = 0;
  size_t timing_cache_hits = 0;
};

// Produces the graph afresh for each profile (re-importing the model).
using GraphSource = std::function<Result<ir::Graph>()>;

Result<BuildResult> build_engine(ir::Graph graph, const BuildOptions& options);
Result<BuildResult> build_engine(const GraphSource& source, const BuildOptions& options);

}  // namespace kiln::engine
