#include "runtime/engine.h"

#include "backends/registry/registry.h"
#include "plan/attribute_codec.h"
#include "runtime/execution_context.h"

namespace kiln::runtime {
namespace {

Result<backends::DeviceKind> device_kind_from(const std::string& name) {
  if (name == "host") return backends::DeviceKind::kHost;
  if (name == "cuda") return backends::DeviceKind::kCuda;
  return data_loss("the plan names an unknown device kind '" + name + "'");
}

Result<backends::TensorDesc> desc_of(const plan::Value& v) {
  backends::TensorDesc desc;
  desc.dtype = static_cast<DType>(v.dtype());
  desc.shape = Shape(std::vector<int64_t>(v.dims().begin(), v.dims().end()));
  if (desc.dtype == DType::kUndefined || desc.dtype >= DType::kCount || !desc.shape.is_static())
    return data_loss("plan value '" + v.name() + "' has an invalid type");
  if (static_cast<uint64_t>(desc.shape.numel()) * dtype_size(desc.dtype) != v.nbytes())
    return data_loss("plan value '" + v.name() + "' claims " + std::to_string(v.nbytes()) + " bytes");
  return desc;
}

}  // namespace

Engine::~Engine() = default;

Result<std::shared_ptr<Engine>> Engine::load(const std::string& plan_path, int cpu_threads) {
  KILN_ASSIGN_OR_RETURN(auto plan, plan::PlanFile::open(plan_path));
  return from_plan(std::move(plan), cpu_threads);
}

Result<std::shared_ptr<Engine>> Engine::from_plan(std::shared_ptr<const plan::PlanFile> plan, int cpu_threads) {
  if (cpu_threads < 0) return invalid_argument("the CPU thread count must be positive (0: the default), got " + std::to_string(cpu_threads));
  std::shared_ptr<Engine> engine(new Engine());
  engine->plan_ = std::move(plan);
  engine->cpu_threads_ = cpu_threads;
  const plan::PlanHeader& h = engine->plan_->header();
  KILN_ASSIGN_OR_RETURN(backends::DeviceKind kind, device_kind_from(h.device_kind()));
  engine->device_ = backends::device_for(kind);
  if (!engine->device_)
    return failed_precondition("the plan was built for a " + h.device_kind() + " device (" + h.device_name() +
                               ") and this machine has none");
  if (engine->device_->arch() != h.device_arch())
    return failed_precondition("the plan was built for " + h.device_arch() + " (" + h.device_name() +
                               ") but this device is " + engine->device_->arch() + " (" + engine->device_->name() +
                               "): rebuild the plan here");
  if (h.profiles_size() == 0) return data_loss("the plan has no profile");
  engine->profiles_.resize(static_cast<size_t>(h.profiles_size()));
  for (int p = 0; p < h.profiles_size(); ++p) {
    const plan::Profile& profile = h.profiles(p);
    ProfileState& state = engine->profiles_[static_cast<size_t>(p)];
    state.proto = &profile;
    const auto value_count = static_cast<int>(profile.values_size());
    auto tensor_of = [&](int index, const std::string& name) -> Result<EngineTensor> {
      if (index < 0 || index >= value_count) return data_loss("plan binding '" + name + "' names no value");
      const plan::Value& v = profile.values(index);
      if (v.kind() != plan::Value::ACTIVATION) return data_loss("plan binding '" + name + "' is not an activation");
      KILN_ASSIGN_OR_RETURN(backends::TensorDesc desc, desc_of(v));
      return EngineTensor{name, desc.dtype, desc.shape, v.nbytes()};
    };
    if (h.input_names_size() != profile.inputs_size() || h.output_names_size() != profile.outputs_size())
      return data_loss("the plan's input/output names do not match the bindings of profile " + std::to_string(p));
    for (int i = 0; i < profile.inputs_size(); ++i) {
      KILN_ASSIGN_OR_RETURN(EngineTensor t, tensor_of(profile.inputs(i), h.input_names(i)));
      state.inputs.push_back(std::move(t));
    }
    for (int i = 0; i < profile.outputs_size(); ++i) {
      KILN_ASSIGN_OR_RETURN(EngineTensor t, tensor_of(profile.outputs(i), h.output_names(i)));
      state.outputs.push_back(std::move(t));
    }
    for (const plan::Value& v : profile.values()) {
      KILN_RETURN_IF_ERROR(desc_of(v).status());
      if (v.kind() == plan::Value::ACTIVATION &&
          (v.arena_offset() > profile.arena_bytes() || v.nbytes() > profile.arena_bytes() - v.arena_offset()))
        return data_loss("plan value '" + v.name() + "' lies outside the arena");
    }
  }
  KILN_RETURN_IF_ERROR(engine->upload_constants());
  for (size_t p = 0; p < engine->profiles_.size(); ++p) KILN_RETURN_IF_ERROR(engine->prepare(engine->profiles_[p], p));
  return engine;
}

Status Engine::upload_constants() {
  const plan::PlanHeader& h = plan_->header();
  if (device_->kind() == backends::DeviceKind::kHost || h.weights_bytes() == 0) return {};
  KILN_ASSIGN_OR_RETURN(device_weights_, backends::DeviceBuffer::allocate(*device_, h.weights_bytes()));
  KILN_ASSIGN_OR_RETURN(void* stream, device_->create_stream());
  Status copied = device_->copy_to_device(device_weights_.data(), plan_->weights(), h.weights_bytes(), stream);
  Status synced = device_->synchronize(stream);
  device_->destroy_stream(stream);
  KILN_RETURN_IF_ERROR(copied.with_context("uploading the plan's constants"));
  return synced;
}

const void* Engine::constant_address(const plan::Value& value) const {
  const uint8_t* base = device_weights_.data() ? static_cast<const uint8_t*>(device_weights_.data()) : plan_->weights();
  return base + value.weights_offset();
}

Status Engine::prepare(ProfileState& state, size_t index) {
  const plan::Profile& h = *state.proto;
  const auto value_count = static_cast<int>(h.values_size());
  state.attributes.resize(static_cast<size_t>(h.steps_size()));
  state.constant_views.resize(static_cast<size_t>(h.steps_size()));
  for (int s = 0; s < h.steps_size(); ++s) {
    const plan::Step& ps = h.steps(s);
    const std::string where = (profiles_.size() > 1 ? "profile " + std::to_string(index) + " " : std::string()) +
                              "plan step " + std::to_string(s) + " '" + ps.name() + "'";
    auto check_index = [&](int index, bool optional) -> Status {
      if ((optional && index == -1) || (index >= 0 && index < value_count)) return {};
      return data_loss(where + " names value " + std::to_string(index) + ", which does not exist");
    };
    Step step;
    for (int in : ps.inputs()) {
      KILN_RETURN_IF_ERROR(check_index(in, true));
      step.inputs.push_back(in);
    }
    for (int out : ps.outputs()) {
      KILN_RETURN_IF_ERROR(check_index(out, true));
      if (out >= 0 && h.values(out).kind() != plan::Value::ACTIVATION)
        return data_loss(where + " writes into a constant");
      step.outputs.push_back(out);
    }
    if (ps.backend().empty()) {  // alias step: the memory plan already shares the buffer
      state.steps.push_back(std::move(step));
      continue;
    }
    auto op = op_kind_from_name(ps.op());
    if (!op) return failed_precondition(where + " uses op '" + ps.op() + "', which this kiln does not know");
    const backends::Backend* backend = backends::find_backend(ps.backend(), cpu_threads_);
    if (!backend)
      return failed_precondition(where + " needs backend '" + ps.backend() + "', which this kiln build lacks (it has: " +
                                 backends::backend_names() + ")");
    KILN_ASSIGN_OR_RETURN(state.attributes[s], plan::decode_attributes(ps.attributes()));
    backends::NodeDesc node;
    node.op = *op;
    node.name = ps.name();
    node.attributes = &state.attributes[s];
    node.allow_tf32 = plan_->header().precision() == "tf32";
    std::vector<Tensor>& views = state.constant_views[s];
    views.resize(step.inputs.size());
    for (size_t i = 0; i < step.inputs.size(); ++i) {
      const int in = step.inputs[i];
      if (in < 0) {
        node.inputs.emplace_back();
        node.constants.push_back(nullptr);
        continue;
      }
      const plan::Value& v = h.values(in);
      KILN_ASSIGN_OR_RETURN(backends::TensorDesc desc, desc_of(v));
      node.inputs.push_back(desc);
      if (v.kind() == plan::Value::CONSTANT) {
        // Kernels read constants on the host at prepare time, whatever the device.
        views[i] = Tensor::wrap(desc.dtype, desc.shape, nullptr,
                                const_cast<uint8_t*>(plan_->weights() + v.weights_offset()));
        node.constants.push_back(&views[i]);
      } else {
        node.constants.push_back(nullptr);
      }
    }
    for (int out : step.outputs) {
      if (out < 0) {
        node.outputs.emplace_back();
        continue;
      }
      KILN_ASSIGN_OR_RETURN(backends::TensorDesc desc, desc_of(h.values(out)));
      node.outputs.push_back(desc);
    }
    if (!backend->supports(node))
      return failed_precondition(where + ": backend '" + ps.backend() + "' of this kiln no longer supports it");
    KILN_ASSIGN_OR_RETURN(step.kernel, backend->prepare(node, ps.tactic()));
    state.workspace_bytes = std::max(state.workspace_bytes, step.kernel->workspace_bytes());
    state.steps.push_back(std::move(step));
  }
  return {};
}

std::vector<StepInfo> Engine::steps(size_t profile) const {
  std::vector<StepInfo> infos;
  const ProfileState& state = profiles_.at(profile);
  for (size_t s = 0; s < state.steps.size(); ++s) {
    const plan::Step& ps = state.proto->steps(static_cast<int>(s));
    infos.push_back({ps.name(), ps.op(), ps.backend(), state.steps[s].kernel ? state.steps[s].kernel->describe() : "view",
                     ps.measured_ms(), ps.flops()});
  }
  return infos;
}

Result<std::unique_ptr<ExecutionContext>> Engine::create_context(size_t profile, bool use_graph_capture) const {
  if (profile >= profiles_.size())
    return invalid_argument("the engine has " + std::to_string(profiles_.size()) + " profiles, not " +
                            std::to_string(profile + 1));
  std::unique_ptr<ExecutionContext> context(new ExecutionContext(shared_from_this(), profile));
  KILN_RETURN_IF_ERROR(context->initialize(use_graph_capture));
  return context;
}

}  // namespace kiln::runtime
