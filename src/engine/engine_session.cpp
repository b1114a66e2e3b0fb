#include "engine/engine_session.h"

#include <algorithm>
#include <filesystem>
#include <optional>
#include <mutex>
#include <sstream>
#include <unistd.h>

#include "engine/builder/engine_builder.h"
#include "kiln/batch_runner.h"
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

// A BatchRunner too: the dynamic batcher hands it a batch as its requests' tensors, which the
// context copies to the device one by one instead of the batcher joining them on the host first.
class EngineSession final : public Session, public BatchRunner {
 public:
  EngineSession(std::shared_ptr<runtime::Engine> engine, bool cuda_graphs)
      : engine_(std::move(engine)), cuda_graphs_(cuda_graphs), idle_(engine_->profile_count()) {
    // Dims that differ between profiles are dynamic to callers: any profile's size is accepted
    // (and batch sizes in between are padded up to the next profile).
    for (const auto& t : engine_->inputs()) inputs_.push_back(info_of(t));
    for (const auto& t : engine_->outputs()) outputs_.push_back(info_of(t));
    for (size_t p = 1; p < engine_->profile_count(); ++p) {
      mark_varying(inputs_, engine_->inputs(p));
      mark_varying(outputs_, engine_->outputs(p));
    }
  }

  const std::vector<TensorInfo>& inputs() const override { return inputs_; }
  const std::vector<TensorInfo>& outputs() const override { return outputs_; }

  Result<std::vector<Tensor>> run(const std::map<std::string, Tensor>& inputs) const override {
    return run_timed(inputs, nullptr);
  }

  Result<std::vector<Tensor>> run_timed(const std::map<std::string, Tensor>& inputs, RunTimings* timings) const override {
    KILN_ASSIGN_OR_RETURN(std::vector<Tensor> ordered, order_inputs(inputs));
    KILN_ASSIGN_OR_RETURN(Choice choice, choose_profile(specs_of(ordered)));
    KILN_ASSIGN_OR_RETURN(auto context, acquire(choice.profile));
    runtime::RunTimings t;
    // A smaller batch runs in the next profile up: the context zeroes the rows past the caller's
    // and returns only the caller's rows.
    auto outputs = choice.padded_batch >= 0 ? context->run_rows(ordered, choice.batch, timings ? &t : nullptr)
                                            : context->run(ordered, timings ? &t : nullptr);
    release(std::move(context));
    if (!outputs.ok()) return outputs;
    if (timings) *timings = RunTimings{t.h2d_ms, t.compute_ms, t.d2h_ms};
    return outputs;
  }

  Result<std::vector<Tensor>> run_parts(const std::map<std::string, std::vector<Tensor>>& parts) const override {
    std::vector<std::vector<Tensor>> ordered;
    std::vector<InputSpec> specs;
    for (const auto& t : engine_->inputs()) {
      auto it = parts.find(t.name);
      if (it == parts.end() || it->second.empty()) return invalid_argument("input '" + t.name + "' is missing");
      InputSpec spec{it->second.front().dtype(), it->second.front().shape()};
      for (size_t g = 1; g < it->second.size(); ++g) {
        if (spec.shape.rank() == 0 || it->second[g].rank() == 0)
          return invalid_argument("input '" + t.name + "': a scalar cannot be joined into a batch");
        spec.shape[0] += it->second[g].shape()[0];
      }
      specs.push_back(std::move(spec));
      ordered.push_back(it->second);
    }
    for (const auto& named : parts)
      if (!is_input(named.first)) return unknown_input(named.first);
    KILN_ASSIGN_OR_RETURN(Choice choice, choose_profile(specs));
    KILN_ASSIGN_OR_RETURN(auto context, acquire(choice.profile));
    auto outputs = context->run_parts(ordered, choice.padded_batch >= 0 ? choice.batch : -1);
    release(std::move(context));
    return outputs;
  }

  Result<std::vector<StepProfile>> profile_steps(const std::map<std::string, Tensor>& inputs, int iterations) const override {
    KILN_ASSIGN_OR_RETURN(std::vector<Tensor> ordered, order_inputs(inputs));
    KILN_ASSIGN_OR_RETURN(Choice choice, choose_profile(specs_of(ordered)));
    if (choice.padded_batch >= 0) return invalid_argument("profile the engine at one of its profiles' exact shapes");
    KILN_ASSIGN_OR_RETURN(auto context, acquire(choice.profile));
    auto ran = context->run(ordered);  // loads the inputs into the arena
    if (!ran.ok()) return ran.status();
    auto times = context->profile_steps(iterations);
    release(std::move(context));
    if (!times.ok()) return times.status();
    std::vector<StepProfile> profile;
    const std::vector<runtime::StepInfo> steps = engine_->steps(choice.profile);
    for (size_t s = 0; s < steps.size(); ++s)
      profile.push_back({steps[s].name, steps[s].op,
                         steps[s].backend.empty() ? "view" : steps[s].backend + ": " + steps[s].tactic, (*times)[s]});
    return profile;
  }

  std::string description() const override {
    const auto& h = engine_->header();
    return "engine: " + h.device_kind() + " on " + engine_->device().name() + ", " + h.precision() +
           (engine_->profile_count() > 1 ? ", " + std::to_string(engine_->profile_count()) + " profiles" : "") +
           (engine_->cpu_threads() > 0 ? ", CPU kernels on " + std::to_string(engine_->cpu_threads()) + (engine_->cpu_threads() == 1 ? " thread" : " threads") : "");
  }

 private:
  struct InputSpec {
    DType dtype = DType::kUndefined;
    Shape shape;
  };
  static std::vector<InputSpec> specs_of(const std::vector<Tensor>& inputs) {
    std::vector<InputSpec> specs;
    for (const Tensor& t : inputs) specs.push_back({t.dtype(), t.shape()});
    return specs;
  }

  struct Choice {
    size_t profile = 0;
    int64_t batch = -1;         // the caller's batch, when padded
    int64_t padded_batch = -1;  // the profile's batch the inputs are padded to; -1: exact shapes
  };

  static void mark_varying(std::vector<TensorInfo>& infos, const std::vector<runtime::EngineTensor>& other) {
    for (size_t i = 0; i < infos.size() && i < other.size(); ++i)
      for (size_t d = 0; d < infos[i].dims.size() && d < other[i].shape.rank(); ++d)
        if (infos[i].dims[d] != other[i].shape[d]) infos[i].dims[d] = kDynamicDim;
  }

  // The profile whose shapes match exactly; else, when the inputs differ from profiles only in
  // dim 0 (the batch), the smallest profile with a batch at least as large (padded).
  Result<Choice> choose_profile(const std::vector<InputSpec>& inputs) const {
    std::optional<Choice> padded;
    int64_t batch = -1;
    bool uniform_batch = true;
    for (const InputSpec& t : inputs) {
      if (t.shape.rank() > 0 && batch < 0) batch = t.shape[0];
      else if (t.shape.rank() == 0 || t.shape[0] != batch) uniform_batch = false;
    }
    for (size_t p = 0; p < engine_->profile_count(); ++p) {
      const auto& expected = engine_->inputs(p);
      bool exact = true, batch_fits = uniform_batch;
      int64_t profile_batch = -1;
      for (size_t i = 0; i < inputs.size(); ++i) {
        const Shape& want = expected[i].shape;
        const Shape& got = inputs[i].shape;
        if (want != got) exact = false;
        if (inputs[i].dtype != expected[i].dtype || want.rank() != got.rank() || want.rank() == 0) {
          batch_fits = false;
          continue;
        }
        if (profile_batch < 0) profile_batch = want[0];
        if (want[0] != profile_batch || want[0] < got[0]) batch_fits = false;
        for (size_t d = 1; d < want.rank(); ++d)
          if (want[d] != got[d]) batch_fits = false;
      }
      if (exact) return Choice{p, -1, -1};
      if (batch_fits && (!padded || profile_batch < padded->padded_batch)) padded = Choice{p, batch, profile_batch};
    }
    if (padded) return *padded;
    std::string shapes;
    for (size_t p = 0; p < engine_->profile_count(); ++p) {
      shapes += (p ? "; " : "") + std::string("profile ") + std::to_string(p) + ":";
      for (const auto& t : engine_->inputs(p)) shapes += " " + t.name + "=" + std::string(dtype_name(t.dtype)) + t.shape.to_string();
    }
    std::string given;
    for (size_t i = 0; i < inputs.size(); ++i)
      given += " " + engine_->inputs()[i].name + "=" + std::string(dtype_name(inputs[i].dtype)) + inputs[i].shape.to_string();
    return invalid_argument("no profile of the engine takes these inputs (" + given.substr(1) +
                            "); the plan was built for " + shapes);
  }

  Result<std::vector<Tensor>> order_inputs(const std::map<std::string, Tensor>& inputs) const {
    std::vector<Tensor> ordered;
    for (const auto& t : engine_->inputs()) {
      auto it = inputs.find(t.name);
      if (it == inputs.end()) return invalid_argument("input '" + t.name + "' is missing");
      ordered.push_back(it->second);
    }
    for (const auto& named : inputs)
      if (!is_input(named.first)) return unknown_input(named.first);
    return ordered;
  }

  bool is_input(const std::string& name) const {
    const auto& all = engine_->inputs();
    return std::any_of(all.begin(), all.end(), [&](const runtime::EngineTensor& t) { return t.name == name; });
  }

  Status unknown_input(const std::string& name) const {
    std::string names;
    for (const auto& t : engine_->inputs()) names.append(names.empty() ? "" : ", ").append(t.name);
    return invalid_argument("unknown input '" + name + "' (the engine's inputs are: " + names + ")");
  }

  Result<std::unique_ptr<runtime::ExecutionContext>> acquire(size_t profile) const {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto& idle = idle_[profile];
      if (!idle.empty()) {
        auto context = std::move(idle.back());
        idle.pop_back();
        return context;
      }
    }
    return engine_->create_context(profile, cuda_graphs_);
  }

  void release(std::unique_ptr<runtime::ExecutionContext> context) const {
    std::lock_guard<std::mutex> lock(mutex_);
    idle_[context->profile()].push_back(std::move(context));
  }

  std::shared_ptr<runtime::Engine> engine_;
  bool cuda_graphs_;
  std::vector<TensorInfo> inputs_;
  std::vector<TensorInfo> outputs_;
  mutable std::mutex mutex_;
  mutable std::vector<std::vector<std::unique_ptr<runtime::ExecutionContext>>> idle_;  // per profile
};

}  // namespace

Result<std::unique_ptr<Session>> open_plan_session(const std::string& plan_path, const SessionOptions& options) {
  KILN_ASSIGN_OR_RETURN(auto engine, runtime::Engine::load(plan_path, options.threads));
  return std::unique_ptr<Session>(new EngineSession(std::move(engine), options.cuda_graphs));
}

Result<std::unique_ptr<Session>> build_engine_session(ir::Graph graph, const std::string& model_path,
                                                      const SessionOptions& options) {
  BuildOptions build;
  build.shapes = options.shapes;
  KILN_ASSIGN_OR_RETURN(build.precision, precision_from_name(options.precision));
  // "cpu,reference": nodes the first cannot run fall back to the next (as the server's KIND_CPU).
  if (options.backend != "auto") {
    std::stringstream list(options.backend);
    for (std::string name; std::getline(list, name, ',');)
      if (!name.empty()) build.backends.push_back(name);
  }
  build.channels_last = options.channels_last;
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
  KILN_ASSIGN_OR_RETURN(auto engine, runtime::Engine::from_plan(std::move(*plan), options.threads));
  return std::unique_ptr<Session>(new EngineSession(std::move(engine), options.cuda_graphs));
}

}  // namespace kiln::engine
