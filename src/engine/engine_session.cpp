#include "engine/engine_session.h"

#include <filesystem>
#include <mutex>
#include <set>
#include <unistd.h>

#include "engine/builder/engine_builder.h"
#include "runtime/engine.h"
#include "runtime/execution_context.h"

namespace kiln::engine {
namespace {

TensorInfo info_of(const runtime::EngineTensor& t) {
  TensorInfo info;
  info.name = t.name;
  info.dtype = t.dtype;
  info.dims = t.shape.dims();
  info.dim_names.assign(info.dims.size(), "");
  return info;
}

class EngineSession final : public Session {
 public:
  EngineSession(std::shared_ptr<runtime::Engine> engine, bool cuda_graphs)
      : engine_(std::move(engine)), cuda_graphs_(cuda_graphs) {
    for (const auto& t : engine_->inputs()) inputs_.push_back(info_of(t));
    for (const auto& t : engine_->outputs()) outputs_.push_back(info_of(t));
  }

  const std::vector<TensorInfo>& inputs() const override { return inputs_; }
  const std::vector<TensorInfo>& outputs() const override { return outputs_; }

  Result<std::vector<Tensor>> run(const std::map<std::string, Tensor>& inputs) const override {
    return run_timed(inputs, nullptr);
  }

  Result<std::vector<Tensor>> run_timed(const std::map<std::string, Tensor>& inputs, RunTimings* timings) const override {
    KILN_ASSIGN_OR_RETURN(std::vector<Tensor> ordered, order_inputs(inputs));
    KILN_ASSIGN_OR_RETURN(auto context, acquire());
    runtime::RunTimings t;
    auto outputs = context->run(ordered, timings ? &t : nullptr);
    release(std::move(context));
    if (outputs.ok() && timings) *timings = RunTimings{t.h2d_ms, t.compute_ms, t.d2h_ms};
    return outputs;
  }

  Result<std::vector<StepProfile>> profile_steps(const std::map<std::string, Tensor>& inputs, int iterations) const override {
    KILN_ASSIGN_OR_RETURN(std::vector<Tensor> ordered, order_inputs(inputs));
    KILN_ASSIGN_OR_RETURN(auto context, acquire());
    auto ran = context->run(ordered);  // loads the inputs into the arena
    if (!ran.ok()) return ran.status();
    auto times = context->profile_steps(iterations);
    release(std::move(context));
    if (!times.ok()) return times.status();
    std::vector<StepProfile> profile;
    const std::vector<runtime::StepInfo> steps = engine_->steps();
    for (size_t s = 0; s < steps.size(); ++s)
      profile.push_back({steps[s].name, steps[s].op,
                         steps[s].backend.empty() ? "view" : steps[s].backend + ": " + steps[s].tactic, (*times)[s]});
    return profile;
  }

  std::string description() const override {
    const auto& h = engine_->header();
    return "engine: " + h.device_kind() + " on " + engine_->device().name() + ", " + h.precision();
  }

 private:
  Result<std::vector<Tensor>> order_inputs(const std::map<std::string, Tensor>& inputs) const {
    std::vector<Tensor> ordered;
    std::set<std::string> known;
    for (const auto& t : engine_->inputs()) {
      known.insert(t.name);
      auto it = inputs.find(t.name);
      if (it == inputs.end()) return invalid_argument("input '" + t.name + "' is missing");
      ordered.push_back(it->second);
    }
    for (const auto& [name, tensor] : inputs)
      if (!known.count(name)) {
        std::string names;
        for (const auto& t : engine_->inputs()) names += (names.empty() ? "" : ", ") + t.name;
        return invalid_argument("unknown input '" + name + "' (the engine's inputs are: " + names + ")");
      }
    return ordered;
  }

  Result<std::unique_ptr<runtime::ExecutionContext>> acquire() const {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!idle_.empty()) {
        auto context = std::move(idle_.back());
        idle_.pop_back();
        return context;
      }
    }
    return engine_->create_context(cuda_graphs_);
  }

  void release(std::unique_ptr<runtime::ExecutionContext> context) const {
    std::lock_guard<std::mutex> lock(mutex_);
    idle_.push_back(std::move(context));
  }

  std::shared_ptr<runtime::Engine> engine_;
  bool cuda_graphs_;
  std::vector<TensorInfo> inputs_;
  std::vector<TensorInfo> outputs_;
  mutable std::mutex mutex_;
  mutable std::vector<std::unique_ptr<runtime::ExecutionContext>> idle_;
};

}  // namespace

Result<std::unique_ptr<Session>> open_plan_session(const std::string& plan_path, const SessionOptions& options) {
  KILN_ASSIGN_OR_RETURN(auto engine, runtime::Engine::load(plan_path));
  return std::unique_ptr<Session>(new EngineSession(std::move(engine), options.cuda_graphs));
}

Result<std::unique_ptr<Session>> build_engine_session(ir::Graph graph, const std::string& model_path,
                                                      const SessionOptions& options) {
  BuildOptions build;
  build.shapes = options.shapes;
  KILN_ASSIGN_OR_RETURN(build.precision, precision_from_name(options.precision));
  if (options.backend != "auto") build.backends = {options.backend};
  build.source_model = std::filesystem::path(model_path).filename().string();
  KILN_ASSIGN_OR_RETURN(BuildResult built, build_engine(std::move(graph), build));
  // The runtime maps plans from files; an in-memory build goes through a private temporary one.
  const std::string temp = (std::filesystem::temp_directory_path() /
                            ("kiln-session-" + std::to_string(::getpid()) + "-" +
                             std::to_string(reinterpret_cast<uintptr_t>(&built)) + ".plan"))
                               .string();
  KILN_RETURN_IF_ERROR(plan::write_plan(temp, built.header, built.weights));
  auto plan = plan::PlanFile::open(temp);
  std::filesystem::remove(temp);  // the mapping keeps the data alive
  if (!plan.ok()) return plan.status();
  KILN_ASSIGN_OR_RETURN(auto engine, runtime::Engine::from_plan(std::move(*plan)));
  return std::unique_ptr<Session>(new EngineSession(std::move(engine), options.cuda_graphs));
}

}  // namespace kiln::engine
