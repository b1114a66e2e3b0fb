#include <filesystem>

#include "engine/builder/engine_builder.h"
#include "kiln/builder.h"
#include "onnx/importer.h"
#include "plan/plan_file.h"

namespace kiln {

Result<BuildSummary> build_plan(const std::string& model_path, const std::string& plan_path, const BuildSettings& settings) {
  // Import once up front so a bad model fails before any building starts.
  KILN_RETURN_IF_ERROR(onnx_import::import_file(model_path).status());
  engine::BuildOptions options;
  options.shapes = settings.shapes;
  options.profiles = settings.profiles;
  KILN_ASSIGN_OR_RETURN(options.precision, engine::precision_from_name(settings.precision));
  options.backends = settings.backends;
  options.optimize = settings.optimize;
  options.channels_last = settings.channels_last;
  options.approximate_gelu = settings.approximate_gelu;
  options.low_precision_io = settings.low_precision_io;
  options.timing_cache_path = settings.timing_cache;
  options.source_model = std::filesystem::path(model_path).filename().string();
  if (settings.progress)
    options.progress = [&](const engine::BuildProgress& p) {
      settings.progress({p.done, p.total, p.node, p.tactic.empty() ? p.backend : p.backend + ": " + p.tactic, p.timed,
                         p.profile, p.profiles});
    };
  if (settings.tactic_timed)
    options.tactic_timed = [&](const std::string& node, const std::string& tactic, double ms, bool cut_short) {
      settings.tactic_timed({node, tactic, ms, cut_short});
    };
  const engine::GraphSource source = [&model_path] { return onnx_import::import_file(model_path); };
  KILN_ASSIGN_OR_RETURN(engine::BuildResult built, engine::build_engine(source, options));
  KILN_RETURN_IF_ERROR(plan::write_plan(plan_path, built.header, built.weights));

  BuildSummary summary;
  const plan::PlanHeader& h = built.header;
  summary.device = h.device_kind() + " " + h.device_name();
  summary.tactics_timed = built.tactics_timed;
  summary.timing_cache_hits = built.timing_cache_hits;
  summary.profiles = static_cast<size_t>(h.profiles_size());
  const plan::Profile& first = h.profiles(0);
  summary.arena_bytes = first.arena_bytes();
  summary.naive_activation_bytes = first.naive_activation_bytes();
  summary.weights_bytes = h.weights_bytes();
  for (const plan::Step& s : first.steps()) {
    if (s.backend().empty()) ++summary.views;
    else ++summary.steps_per_backend[s.backend()];
    ++summary.steps;
  }
  return summary;
}

}  // namespace kiln
