#include "engine/builder/engine_builder.h"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <set>

#include "backends/registry/registry.h"
#include "engine/builder/memory_planner.h"
#include "engine/builder/tactic_timer.h"
#include "engine/builder/timing_cache.h"
#include "engine/constant_evaluator.h"
#include "engine/input_shapes.h"
#include "ir/op_schema.h"
#include "ir/shape_inference.h"
#include "passes/pipeline.h"
#include "passes/precision/lower_float_precision.h"
#include "plan/attribute_codec.h"
#include "plan/plan_file.h"

namespace kiln::engine {
namespace {

using backends::Backend;
using backends::DeviceKind;

// Ops whose output is their first input reinterpreted: no kernel, the memory plan shares the
// buffer.
bool is_view_op(OpKind op) {
  switch (op) {
    case OpKind::Reshape:
    case OpKind::Flatten:
    case OpKind::Squeeze:
    case OpKind::Unsqueeze:
    case OpKind::Identity:
      return true;
    default:
      return false;
  }
}

Result<std::vector<const Backend*>> choose_backends(const BuildOptions& options) {
  std::vector<const Backend*> chosen;
  if (options.backends.empty()) {
    const std::vector<const Backend*> all = backends::all_backends();
    // The fastest device this machine has: CUDA when a GPU is present, else the host.
    const bool gpu = backends::device_for(DeviceKind::kCuda) != nullptr &&
                     std::any_of(all.begin(), all.end(), [](const Backend* b) { return b->device() == DeviceKind::kCuda; });
    for (const Backend* b : all)
      if ((b->device() == DeviceKind::kCuda) == gpu) chosen.push_back(b);
    return chosen;
  }
  for (const std::string& name : options.backends) {
    const Backend* b = backends::find_backend(name);
    if (!b) return invalid_argument("unknown backend '" + name + "' (this build has: " + backends::backend_names() + ")");
    if (!chosen.empty() && b->device() != chosen.front()->device())
      return invalid_argument("backends '" + std::string(chosen.front()->name()) + "' and '" + name +
                              "' run on different devices; an engine runs on one");
    chosen.push_back(b);
  }
  return chosen;
}

Result<backends::TensorDesc> desc_of(const ir::Value& v) {
  const ir::ValueType& type = v.type();
  if (!type.shape) return invalid_argument("value '" + v.name() + "' has unknown rank; give input shapes with --shapes");
  Shape shape = ir::shape_of(*type.shape);
  if (!shape.is_static())
    return invalid_argument("value '" + v.name() + "' has dynamic shape " + ir::sym_shape_to_string(*type.shape) +
                            "; give concrete input shapes with --shapes NAME:DxDxD");
  return backends::TensorDesc{type.dtype, shape};
}

size_t value_bytes(const backends::TensorDesc& d) { return static_cast<size_t>(d.shape.numel()) * dtype_size(d.dtype); }

size_t round_up(size_t v, size_t a) { return (v + a - 1) / a * a; }

// The builder's value table: every value the plan names, with its buffer.
struct PlanValues {
  std::map<const ir::Value*, int> index;
  std::vector<const ir::Value*> values;
  std::vector<backends::TensorDesc> descs;
  std::vector<int> buffer_of;  // activations: buffer id; constants: -1
};

// channels_last where the preferred backend runs it natively: cuDNN's NHWC tensor-core
// convolutions, and oneDNN's NHWC convolutions on the CPU (ResNet-50 on 2 cores: 1.4x at batch
// 16 and 2x at batch 1 over NCHW). The reference backend would only pay for the Transposes.
bool all_cuda(const std::vector<const Backend*>& candidates) {
  return !candidates.empty() && std::all_of(candidates.begin(), candidates.end(),
                                            [](const Backend* b) { return b->device() == DeviceKind::kCuda; });
}

bool prefers_cpu(const std::vector<const Backend*>& candidates) {
  return !candidates.empty() && candidates.front()->name() == std::string_view("cpu");
}

bool wants_channels_last(const BuildOptions& options, const std::vector<const Backend*>& candidates) {
  return options.channels_last || all_cuda(candidates) || prefers_cpu(candidates);
}

Status optimize_and_lower(ir::Graph& graph, const BuildOptions& options, const std::vector<const Backend*>& candidates) {
  KILN_RETURN_IF_ERROR(fix_input_shapes(graph, options.shapes));
  KILN_RETURN_IF_ERROR(ir::infer_shapes(graph));
  if (options.optimize) {
    passes::PipelineOptions pipeline;
    pipeline.evaluate = reference_node_evaluator();
    pipeline.channels_last = wants_channels_last(options, candidates);
    // oneDNN's blocked convolutions without a reorder around each one (docs/fused-ops.md).
    pipeline.channel_blocked = prefers_cpu(candidates);
    // The CUDA attention kernel reads Q/K/V through strides; the host backends' would copy.
    pipeline.sequence_major_attention = all_cuda(candidates);
    pipeline.approximate_gelu = options.approximate_gelu;
    KILN_RETURN_IF_ERROR(passes::run_pipeline(graph, pipeline).with_context("graph optimizer"));
  }
  if (options.precision == Precision::kFloat16 || options.precision == Precision::kBFloat16) {
    const DType target = options.precision == Precision::kFloat16 ? DType::kFloat16 : DType::kBFloat16;
    const auto interface = options.low_precision_io ? passes::FloatInterface::kLower : passes::FloatInterface::kKeepFloat32;
    KILN_RETURN_IF_ERROR(
        passes::lower_float_precision(graph, target, interface).status().with_context("precision lowering"));
  }
  return {};
}

}  // namespace

const char* precision_name(Precision precision) {
  switch (precision) {
    case Precision::kFloat32: return "fp32";
    case Precision::kTF32: return "tf32";
    case Precision::kFloat16: return "fp16";
    case Precision::kBFloat16: return "bf16";
  }
  return "?";
}

Result<Precision> precision_from_name(const std::string& name) {
  for (Precision p : {Precision::kFloat32, Precision::kTF32, Precision::kFloat16, Precision::kBFloat16})
    if (name == precision_name(p)) return p;
  return invalid_argument("unknown precision '" + name + "' (fp32, tf32, fp16, bf16)");
}

namespace {

// The weights blob shared by all profiles: a constant appears once however many profiles use it.
class WeightsLayout {
 public:
  uint64_t add(const std::string& name, const Tensor& t) {
    const size_t bytes = t.nbytes();
    auto range = by_name_.equal_range(name);
    for (auto it = range.first; it != range.second; ++it) {
      const auto [offset, size] = it->second;
      if (size == bytes && (bytes == 0 || std::memcmp(blob_.data() + offset, t.raw_data(), bytes) == 0)) return offset;
    }
    const size_t offset = round_up(blob_.size(), plan::kWeightsAlignment);
    blob_.resize(offset + bytes);
    if (bytes) std::memcpy(blob_.data() + offset, t.raw_data(), bytes);
    by_name_.emplace(name, std::make_pair(offset, bytes));
    return offset;
  }
  std::vector<uint8_t> take() {
    blob_.resize(round_up(blob_.size(), plan::kWeightsAlignment));
    return std::move(blob_);
  }

 private:
  std::vector<uint8_t> blob_;
  std::multimap<std::string, std::pair<size_t, size_t>> by_name_;
};

struct BuildContext {
  const BuildOptions& options;
  std::vector<const Backend*> candidates;
  const backends::Device* device = nullptr;
  TimingCache cache;
  WeightsLayout weights;
  BuildResult result;
  size_t profile_index = 0;
  size_t profile_count = 1;
};

Status build_profile(ir::Graph graph, const InputShapes& shapes, BuildContext& ctx, plan::Profile& h,
                     std::vector<std::string>& input_names, std::vector<std::string>& output_names) {
  const BuildOptions& options = ctx.options;
  const std::vector<const Backend*>& candidates = ctx.candidates;
  const backends::Device* device = ctx.device;
  BuildResult& result = ctx.result;
  TimingCache& cache = ctx.cache;
  BuildOptions profile_options = options;
  profile_options.shapes = shapes;
  KILN_RETURN_IF_ERROR(optimize_and_lower(graph, profile_options, candidates));

  // Values: every one the nodes and bindings name. Views share their input's buffer.
  PlanValues pv;
  std::vector<int> buffer_parent;  // union-find over buffers for view chains
  auto add_value = [&](const ir::Value* v) -> Result<int> {
    auto it = pv.index.find(v);
    if (it != pv.index.end()) return it->second;
    KILN_ASSIGN_OR_RETURN(backends::TensorDesc desc, desc_of(*v));
    if (desc.dtype == DType::kBytes) return unimplemented("value '" + v->name() + "' holds strings, which engines cannot plan");
    const int id = static_cast<int>(pv.values.size());
    pv.index[v] = id;
    pv.values.push_back(v);
    pv.descs.push_back(desc);
    // An initializer that is also a graph input could be overridden on the reference executor;
    // an engine bakes its value in.
    const bool constant = v->is_constant();
    pv.buffer_of.push_back(constant ? -1 : static_cast<int>(buffer_parent.size()));
    if (!constant) buffer_parent.push_back(static_cast<int>(buffer_parent.size()));
    return id;
  };
  auto root = [&](int b) {
    while (buffer_parent[static_cast<size_t>(b)] != b) b = buffer_parent[static_cast<size_t>(b)];
    return b;
  };
  for (const ir::Value* in : graph.inputs()) {
    if (in->is_constant()) continue;  // an overridable initializer: the engine uses its value
    KILN_RETURN_IF_ERROR(add_value(in).status());
  }

  // Steps: choose a backend and tactic for each node.
  std::vector<std::string> unsupported;
  const size_t total = graph.nodes().size();
  for (size_t n = 0; n < total; ++n) {
    const ir::Node& node = *graph.nodes()[n];
    plan::Step* step = h.add_steps();
    step->set_name(node.name());
    step->set_op(std::string(op_kind_name(node.op())));
    backends::NodeDesc desc;
    desc.op = node.op();
    desc.name = node.name();
    desc.attributes = &node.attrs();
    desc.allow_tf32 = options.precision == Precision::kTF32;
    for (const ir::Value* in : node.inputs()) {
      if (!in) {
        step->add_inputs(-1);
        desc.inputs.emplace_back();
        desc.constants.push_back(nullptr);
        continue;
      }
      KILN_ASSIGN_OR_RETURN(int id, add_value(in));
      step->add_inputs(id);
      desc.inputs.push_back(pv.descs[static_cast<size_t>(id)]);
      desc.constants.push_back(pv.buffer_of[static_cast<size_t>(id)] < 0 ? in->constant() : nullptr);
    }
    for (const ir::Value* out : node.outputs()) {
      if (!out) {
        step->add_outputs(-1);
        desc.outputs.emplace_back();
        continue;
      }
      KILN_ASSIGN_OR_RETURN(int id, add_value(out));
      step->add_outputs(id);
      desc.outputs.push_back(pv.descs[static_cast<size_t>(id)]);
    }
    {
      std::vector<Shape> in_shapes, out_shapes;
      for (const auto& d : desc.inputs) in_shapes.push_back(d.shape);
      for (const auto& d : desc.outputs) out_shapes.push_back(d.shape);
      const ir::OpSchema* schema = ir::find_schema(node.op());
      double flops = 0;
      if (schema && schema->flops) flops = schema->flops(node, in_shapes, out_shapes);
      else for (const Shape& s : out_shapes) flops += static_cast<double>(s.numel());
      step->set_flops(static_cast<int64_t>(flops));
    }
    KILN_RETURN_IF_ERROR(plan::encode_attributes(node.attrs(), step->mutable_attributes()));

    const int first_input = step->inputs_size() > 0 ? step->inputs(0) : -1;
    if (is_view_op(node.op()) && first_input >= 0 && pv.buffer_of[static_cast<size_t>(first_input)] >= 0 &&
        step->outputs_size() == 1 && step->outputs(0) >= 0 &&
        value_bytes(pv.descs[static_cast<size_t>(first_input)]) == value_bytes(pv.descs[static_cast<size_t>(step->outputs(0))])) {
      const int out_buffer = pv.buffer_of[static_cast<size_t>(step->outputs(0))];
      buffer_parent[static_cast<size_t>(root(out_buffer))] = root(pv.buffer_of[static_cast<size_t>(first_input)]);
      if (options.progress) options.progress({n + 1, total, node.name(), "view", "", false, ctx.profile_index, ctx.profile_count});
      continue;  // backend left empty: an alias step
    }

    const Backend* picked = nullptr;
    for (const Backend* b : candidates)
      if (b->supports(desc)) {
        picked = b;
        break;
      }
    if (!picked) {
      unsupported.push_back(node.describe());
      continue;
    }
    std::vector<backends::Tactic> tactics = picked->tactics(desc);
    if (tactics.empty()) return internal_error(node.describe() + ": backend '" + std::string(picked->name()) + "' offers no tactic");
    backends::Tactic best = tactics.front();
    double best_ms = 0;
    bool timed = false;
    if (tactics.size() > 1) {
      const std::string key = TimingCache::key(*picked, desc, device->name());
      if (auto hit = cache.find(key)) {
        auto it = std::find_if(tactics.begin(), tactics.end(), [&](const backends::Tactic& t) { return t.id == hit->tactic; });
        if (it != tactics.end()) {
          best = *it;
          best_ms = hit->ms;
          ++result.timing_cache_hits;
        }
      }
      if (best_ms == 0) {
        timed = true;
        bool any = false;
        KILN_ASSIGN_OR_RETURN(auto bench, NodeTimingBench::create(*device, desc));
        for (const backends::Tactic& t : tactics) {
          auto kernel = picked->prepare(desc, t.id);
          if (!kernel.ok()) continue;  // a tactic that cannot run this shape is not a candidate
          // Slower than twice the best so far after one run: not worth timing precisely.
          auto ms = bench->time(**kernel, options.timing_iterations, any ? 2 * best_ms : 0);
          if (!ms.ok()) continue;
          if (options.tactic_timed) options.tactic_timed(node.name(), (*kernel)->describe(), *ms, any && *ms > 2 * best_ms);
          if (!any || *ms < best_ms) {
            best = t;
            best_ms = *ms;
            any = true;
          }
        }
        if (!any) return failed_precondition(node.describe() + ": none of the " + std::to_string(tactics.size()) +
                                             " tactics of backend '" + std::string(picked->name()) + "' ran");
        ++result.tactics_timed;
        cache.insert(key, {best.id, best_ms});
      }
    }
    // Prepare once more: proves the chosen tactic builds, and names it for the plan.
    KILN_ASSIGN_OR_RETURN(auto kernel, picked->prepare(desc, best.id));
    step->set_backend(std::string(picked->name()));
    step->set_tactic(best.id);
    step->set_tactic_name(kernel->describe());
    step->set_measured_ms(best_ms);
    h.set_workspace_bytes(std::max<uint64_t>(h.workspace_bytes(), kernel->workspace_bytes()));
    if (options.progress)
      options.progress({n + 1, total, node.name(), std::string(picked->name()), kernel->describe(), timed, ctx.profile_index,
                        ctx.profile_count});
  }
  if (!unsupported.empty()) {
    std::string list;
    for (const std::string& u : unsupported) list += "\n  " + u;
    return unimplemented(std::to_string(unsupported.size()) + " node(s) are not supported by backend(s) " +
                         [&] {
                           std::string names;
                           for (const Backend* b : candidates) names += (names.empty() ? "" : ", ") + std::string(b->name());
                           return names;
                         }() +
                         ":" + list +
                         (candidates.size() == 1 && candidates[0]->name() != "reference"
                              ? "\n(add a fallback backend to run them there, e.g. --backend " +
                                    std::string(candidates[0]->name()) + ",reference)"
                              : ""));
  }

  // Bindings.
  for (const ir::Value* in : graph.inputs()) {
    if (in->is_constant()) continue;
    h.add_inputs(pv.index.at(in));
    input_names.push_back(in->name());
  }
  for (const ir::Value* out : graph.outputs()) {
    KILN_ASSIGN_OR_RETURN(int id, add_value(out));
    if (pv.buffer_of[static_cast<size_t>(id)] < 0)
      return unimplemented("output '" + out->name() + "' is a constant; kiln engines compute their outputs");
    h.add_outputs(id);
    output_names.push_back(out->name());
  }

  // Lifetimes per root buffer: from its first writer to its last reader; bindings span the run.
  const size_t steps = static_cast<size_t>(h.steps_size());
  const size_t last = steps == 0 ? 0 : steps - 1;
  std::vector<BufferLifetime> lifetimes(buffer_parent.size());
  std::vector<bool> seen(buffer_parent.size(), false);
  auto touch = [&](int value, size_t step_index) {
    const int b = pv.buffer_of[static_cast<size_t>(value)];
    if (b < 0) return;
    const auto r = static_cast<size_t>(root(b));
    BufferLifetime& l = lifetimes[r];
    l.bytes = std::max(l.bytes, value_bytes(pv.descs[static_cast<size_t>(value)]));
    if (!seen[r]) {
      l.first_step = l.last_step = step_index;
      seen[r] = true;
    }
    l.first_step = std::min(l.first_step, step_index);
    l.last_step = std::max(l.last_step, step_index);
  };
  for (int in : h.inputs()) touch(in, 0);
  for (size_t s = 0; s < steps; ++s) {
    for (int in : h.steps(static_cast<int>(s)).inputs())
      if (in >= 0) touch(in, s);
    for (int out : h.steps(static_cast<int>(s)).outputs())
      if (out >= 0) touch(out, s);
  }
  for (int out : h.outputs()) touch(out, last);
  for (int in : h.inputs()) touch(in, last);  // inputs stay readable (and are not overwritten) all run
  // Only roots are real buffers; the others get their root's offset.
  std::vector<BufferLifetime> roots;
  std::vector<int> slot_of_root(buffer_parent.size(), -1);
  for (size_t b = 0; b < buffer_parent.size(); ++b)
    if (root(static_cast<int>(b)) == static_cast<int>(b) && seen[b]) {
      slot_of_root[b] = static_cast<int>(roots.size());
      roots.push_back(lifetimes[b]);
    }
  const MemoryPlan memory = plan_memory(roots);
  h.set_arena_bytes(memory.arena_bytes);
  h.set_naive_activation_bytes(memory.naive_bytes);

  // Values; constants go into the shared weights blob.
  for (size_t i = 0; i < pv.values.size(); ++i) {
    plan::Value* v = h.add_values();
    v->set_name(pv.values[i]->name());
    v->set_dtype(static_cast<int32_t>(pv.descs[i].dtype));
    for (int64_t d : pv.descs[i].shape.dims()) v->add_dims(d);
    v->set_nbytes(value_bytes(pv.descs[i]));
    if (pv.buffer_of[i] < 0) {
      v->set_kind(plan::Value::CONSTANT);
      v->set_weights_offset(ctx.weights.add(pv.values[i]->name(), *pv.values[i]->constant()));
    } else {
      v->set_kind(plan::Value::ACTIVATION);
      const int slot = slot_of_root[static_cast<size_t>(root(pv.buffer_of[i]))];
      v->set_arena_offset(slot >= 0 ? memory.offsets[static_cast<size_t>(slot)] : 0);
    }
  }
  return {};
}

Result<BuildResult> build_profiles(const GraphSource& source, const std::vector<InputShapes>& profiles,
                                   const BuildOptions& options) {
  BuildContext ctx{options, {}, nullptr, {}, {}, {}, 0, profiles.size()};
  KILN_ASSIGN_OR_RETURN(ctx.candidates, choose_backends(options));
  const DeviceKind device_kind = ctx.candidates.front()->device();
  ctx.device = backends::device_for(device_kind);
  if (!ctx.device)
    return failed_precondition("backend '" + std::string(ctx.candidates.front()->name()) +
                               "' needs a GPU and this machine has none");
  if (!options.timing_cache_path.empty()) {
    KILN_ASSIGN_OR_RETURN(ctx.cache, TimingCache::load(options.timing_cache_path));
  }
  plan::PlanHeader& h = ctx.result.header;
  h.set_kiln_version(plan::kiln_version());
  h.set_device_kind(device_kind == DeviceKind::kCuda ? "cuda" : "host");
  h.set_device_arch(ctx.device->arch());
  h.set_device_name(ctx.device->name());
  h.set_precision(precision_name(options.precision));
  h.set_source_model(options.source_model);
  for (size_t p = 0; p < profiles.size(); ++p) {
    ctx.profile_index = p;
    KILN_ASSIGN_OR_RETURN(ir::Graph graph, source());
    std::vector<std::string> inputs, outputs;
    plan::Profile* profile = h.add_profiles();
    Status built = build_profile(std::move(graph), profiles[p], ctx, *profile, inputs, outputs);
    if (!built.ok()) return profiles.size() > 1 ? built.with_context("profile " + std::to_string(p)) : built;
    if (p == 0) {
      for (const std::string& n : inputs) h.add_input_names(n);
      for (const std::string& n : outputs) h.add_output_names(n);
    } else if (!std::equal(inputs.begin(), inputs.end(), h.input_names().begin(), h.input_names().end()) ||
               !std::equal(outputs.begin(), outputs.end(), h.output_names().begin(), h.output_names().end())) {
      return internal_error("profile " + std::to_string(p) + " has other inputs or outputs than profile 0");
    }
  }
  if (!options.timing_cache_path.empty() && ctx.result.tactics_timed > 0)
    KILN_RETURN_IF_ERROR(ctx.cache.save(options.timing_cache_path));
  ctx.result.weights = ctx.weights.take();
  h.set_weights_bytes(ctx.result.weights.size());
  return std::move(ctx.result);
}

}  // namespace

Result<BuildResult> build_engine(ir::Graph graph, const BuildOptions& options) {
  if (options.profiles.size() > 1)
    return invalid_argument("several profiles need a graph source that produces the graph for each");
  auto shared = std::make_shared<ir::Graph>(std::move(graph));
  bool used = false;
  GraphSource once = [&]() -> Result<ir::Graph> {
    if (used) return internal_error("the graph was already used");
    used = true;
    return std::move(*shared);
  };
  return build_profiles(once, {options.profiles.empty() ? options.shapes : options.profiles.front()}, options);
}

Result<BuildResult> build_engine(const GraphSource& source, const BuildOptions& options) {
  return build_profiles(source, options.profiles.empty() ? std::vector<InputShapes>{options.shapes} : options.profiles,
                        options);
}

}  // namespace kiln::engine
