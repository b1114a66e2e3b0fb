#include "serving/version_loader.h"

#include "kiln/plan_info.h"
#include "serving/engine_settings.h"
#include "serving/model_config_loader.h"
#include "serving/model_warmup.h"

namespace kiln::serving {
namespace {

// KIND_AUTO groups become the kind the model actually runs on, as Triton reports them; an
// explicit kind must match it (a plan built for the host cannot run KIND_GPU instances).
Status resolve_instance_kinds(ModelConfig& config, ModelInstanceGroup::Kind actual, const std::string& what,
                              const ConfigLocations& locations, const std::string& display_path) {
  for (int i = 0; i < config.instance_group_size(); ++i) {
    ModelInstanceGroup& group = *config.mutable_instance_group(i);
    if (group.kind() == ModelInstanceGroup::KIND_AUTO) group.set_kind(actual);
    if (group.kind() != actual) {
      return invalid_argument(locations.error(display_path, "instance_group[" + std::to_string(i) + "].kind",
                                              ModelInstanceGroup::Kind_Name(group.kind()) + " does not match " + what +
                                                  ", which runs on " + (actual == ModelInstanceGroup::KIND_GPU ? "a GPU" : "the CPU")));
    }
  }
  return {};
}

std::string label_of(const VersionSource& source) {
  return "model '" + source.model_name + "' version " + std::to_string(source.version);
}

Result<std::shared_ptr<const Session>> open_plan(ModelConfig& config, const VersionSource& source,
                                                 const ConfigLocations& locations) {
  SessionOptions options;
  if (config.optimization().has_cuda()) options.cuda_graphs = config.optimization().cuda().graphs();
  Result<std::unique_ptr<Session>> session = Session::open(source.model_path, options);
  if (!session.ok()) return session.status().with_context(label_of(source));
  KILN_ASSIGN_OR_RETURN(PlanInfo info, read_plan_info(source.model_path));
  const auto kind = info.device_kind == "cuda" ? ModelInstanceGroup::KIND_GPU : ModelInstanceGroup::KIND_CPU;
  KILN_RETURN_IF_ERROR(resolve_instance_kinds(config, kind, "the plan file", locations, source.display_path));
  KILN_RETURN_IF_ERROR(complete_model_config(config, **session, source.display_path));
  return std::shared_ptr<const Session>(std::move(session).value());
}

Result<std::shared_ptr<const Session>> open_onnx(ModelConfig& config, const VersionSource& source,
                                                 const ConfigLocations& locations, const EngineCache& cache,
                                                 const LogFn& log) {
  // Settings first: a missing GPU or a bad precision fails before the model is even read.
  KILN_ASSIGN_OR_RETURN(EngineSettings settings, engine_settings_from_config(config, locations, source.display_path, log));
  KILN_RETURN_IF_ERROR(resolve_instance_kinds(config, settings.kind, "the engine", locations, source.display_path));
  // The model's own inputs and outputs complete the config (the reference session only reads it).
  Result<std::unique_ptr<Session>> reference = Session::open(source.model_path);
  if (!reference.ok()) return reference.status().with_context(label_of(source));
  const DType float32_interface = !settings.low_precision_io ? DType::kFloat32
                                  : settings.precision == "bf16" ? DType::kBFloat16
                                                                 : DType::kFloat16;
  KILN_RETURN_IF_ERROR(complete_model_config(config, **reference, source.display_path, float32_interface));
  if (!settings.build_engine) return std::shared_ptr<const Session>(std::move(reference).value());
  reference.value().reset();  // its weights are not needed while building

  EngineRequest request;
  request.model_path = source.model_path;
  request.label = label_of(source);
  request.entry_name = source.model_name + "." + std::to_string(source.version);
  KILN_ASSIGN_OR_RETURN(request.settings.profiles, engine_profiles(config, locations, source.display_path));
  request.batch_sizes = profile_batch_sizes(config);
  request.settings.precision = settings.precision;
  request.settings.low_precision_io = settings.low_precision_io;
  request.settings.backends = settings.backends;
  request.target = settings.target;
  request.cuda_graphs = settings.cuda_graphs;
  request.cpu_threads = settings.cpu_threads;
  KILN_ASSIGN_OR_RETURN(OpenedEngine engine, cache.open(request));
  return std::shared_ptr<const Session>(std::move(engine.session));
}

}  // namespace

Result<std::shared_ptr<const Session>> load_version(ModelConfig& config, const VersionSource& source,
                                                    const ConfigLocations& locations, const EngineCache& cache,
                                                    const LogFn& log) {
  const bool plan = is_plan_file(source.model_path);
  KILN_ASSIGN_OR_RETURN(std::shared_ptr<const Session> session,
                        plan ? open_plan(config, source, locations) : open_onnx(config, source, locations, cache, log));
  if (config.model_warmup_size() > 0) {
    log(label_of(source) + ": warming up (" + std::to_string(config.model_warmup_size()) + " model_warmup entries)");
    KILN_RETURN_IF_ERROR(run_model_warmup(config, *session, source.model_directory, locations, source.display_path));
  }
  log(label_of(source) + ": " + session->description());
  return session;
}

}  // namespace kiln::serving
