// kiln_cpu_bench: times a whole model on the CPU backend until the runtime (src/runtime) lands.
// A stand-in for `kiln bench --backend cpu`, kept inside bench/: it imports the model, fixes the
// input shapes, runs the pass pipeline, prepares every node on the CPU backend (timing each
// node's tactics once and keeping the fastest, as the builder will) and falls back to the
// reference kernels for nodes the CPU backend says no to. One buffer per value, no arena.
//
//   kiln_cpu_bench MODEL --shapes name=1x3x224x224[,name=...] [--input name=file.npy ...]
//                  [--expect file.npy] [--threads N] [--warmup N] [--iterations N] [--profile]
// Prints one JSON line: per-iteration latency statistics, node counts, and the max relative
// error against --expect (the first graph output).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "backends/cpu/cpu_backend.h"
#include "backends/reference/kernel.h"
#include "core/npy.h"
#include "engine/constant_evaluator.h"
#include "ir/graph.h"
#include "ir/shape_inference.h"
#include "onnx/importer.h"
#include "passes/pipeline.h"

namespace {

using namespace kiln;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string model;
  std::map<std::string, Shape> shapes;
  std::map<std::string, std::string> inputs;
  std::string expect;
  int threads = 0;
  int warmup = 3;
  int iterations = 10;
  bool profile = false;
};

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// One prepared step: a CPU kernel, or the reference kernel of a node the backend declined.
struct Step {
  const ir::Node* node = nullptr;
  backends::NodeDesc desc;
  std::unique_ptr<backends::Kernel> kernel;  // nullptr: reference fallback
  std::vector<size_t> inputs, outputs;       // slots; SIZE_MAX for absent
  double total_ms = 0.0;
};

constexpr size_t kAbsent = SIZE_MAX;

class Harness {
 public:
  Status build(ir::Graph& graph, const Options& options, const std::map<std::string, Tensor>& feeds) {
    backend_ = std::make_unique<backends::cpu::CpuBackend>(backends::cpu::CpuBackendOptions{options.threads});
    std::map<const ir::Value*, size_t> slot;
    auto slot_of = [&](const ir::Value* v) -> size_t {
      if (!v) return kAbsent;
      auto [it, fresh] = slot.try_emplace(v, tensors_.size());
      if (fresh) {
        if (v->is_constant())
          tensors_.push_back(*v->constant());
        else
          tensors_.emplace_back();
      }
      return it->second;
    };
    for (const ir::Value* in : graph.inputs()) {
      auto it = feeds.find(in->name());
      if (it == feeds.end()) return invalid_argument("no value for input " + in->name());
      tensors_[slot_of(in)] = it->second;
      input_slots_[in->name()] = slot_of(in);
    }
    for (const auto& node_ptr : graph.nodes()) {
      const ir::Node& node = *node_ptr;
      Step step;
      step.node = &node;
      step.desc.op = node.op();
      step.desc.name = node.name();
      step.desc.attributes = &node.attrs();
      for (const ir::Value* v : node.inputs()) {
        step.inputs.push_back(slot_of(v));
        step.desc.inputs.push_back(v ? backends::TensorDesc{v->type().dtype, shape_of(*v->type().shape)}
                                     : backends::TensorDesc{});
        step.desc.constants.push_back(v ? v->constant() : nullptr);
      }
      for (const ir::Value* v : node.outputs()) {
        step.outputs.push_back(slot_of(v));
        const bool known = v && v->type().shape && shape_of(*v->type().shape).is_static();
        const bool used = v && (!graph.consumers(v).empty() || is_graph_output(graph, v));
        step.desc.outputs.push_back(known && used
                                        ? backends::TensorDesc{v->type().dtype, shape_of(*v->type().shape)}
                                        : backends::TensorDesc{});
      }
      if (backend_->supports(step.desc)) {
        for (size_t i = 0; i < step.outputs.size(); ++i)
          if (step.desc.outputs[i].present())
            tensors_[step.outputs[i]] = Tensor(step.desc.outputs[i].dtype, step.desc.outputs[i].shape);
        KILN_RETURN_IF_ERROR(pick_tactic(step));
        ++cpu_nodes_;
      } else {
        ++reference_nodes_;
        fallback_ops_[std::string(op_kind_name(node.op()))]++;
        KILN_RETURN_IF_ERROR(run_step(step));
      }
      workspace_bytes_ = std::max(workspace_bytes_, step.kernel ? step.kernel->workspace_bytes() : 0);
      steps_.push_back(std::move(step));
    }
    for (const ir::Value* out : graph.outputs()) output_slots_.push_back(slot.at(out));
    workspace_.resize(workspace_bytes_ + 64);
    return Status::ok_status();
  }

  Status run(bool profile) {
    for (Step& step : steps_) {
      const auto start = Clock::now();
      KILN_RETURN_IF_ERROR(run_step(step));
      if (profile) step.total_ms += ms_since(start);
    }
    return Status::ok_status();
  }

  const Tensor& output(size_t i) const { return tensors_[output_slots_[i]]; }
  int cpu_nodes() const { return cpu_nodes_; }
  int reference_nodes() const { return reference_nodes_; }
  const std::map<std::string, int>& fallback_ops() const { return fallback_ops_; }
  const std::vector<Step>& steps() const { return steps_; }

 private:
  static bool is_graph_output(const ir::Graph& graph, const ir::Value* v) {
    return std::find(graph.outputs().begin(), graph.outputs().end(), v) != graph.outputs().end();
  }

  backends::ExecuteArgs args_for(const Step& step, void* workspace) {
    backends::ExecuteArgs args;
    for (size_t s : step.inputs) args.inputs.push_back(s == kAbsent ? nullptr : tensors_[s].raw_data());
    for (size_t i = 0; i < step.outputs.size(); ++i)
      args.outputs.push_back(step.desc.outputs[i].present() ? tensors_[step.outputs[i]].raw_data() : nullptr);
    args.workspace = workspace;
    return args;
  }

  // The builder's job in miniature: prepare every tactic, time it, keep the fastest.
  Status pick_tactic(Step& step) {
    double best = INFINITY;
    for (const backends::Tactic& tactic : backend_->tactics(step.desc)) {
      KILN_ASSIGN_OR_RETURN(std::unique_ptr<backends::Kernel> kernel, backend_->prepare(step.desc, tactic.id));
      std::vector<std::byte> workspace(kernel->workspace_bytes() + 64);
      const backends::ExecuteArgs args = args_for(step, workspace.data());
      KILN_RETURN_IF_ERROR(kernel->execute(args));  // warm
      double fastest = INFINITY;
      constexpr int kTimings = 3;
      for (int i = 0; i < kTimings; ++i) {
        const auto start = Clock::now();
        KILN_RETURN_IF_ERROR(kernel->execute(args));
        fastest = std::min(fastest, ms_since(start));
      }
      if (fastest < best) {
        best = fastest;
        step.kernel = std::move(kernel);
      }
    }
    return Status::ok_status();
  }

  Status run_step(Step& step) {
    if (step.kernel) return step.kernel->execute(args_for(step, workspace_.data()));
    reference::KernelContext ctx;
    ctx.op = step.node->op();
    for (size_t s : step.inputs) ctx.inputs.push_back(s == kAbsent ? nullptr : &tensors_[s]);
    ctx.attrs = &step.node->attrs();
    ctx.outputs.resize(step.outputs.size());
    ctx.output_wanted.assign(step.outputs.size(), true);
    KILN_RETURN_IF_ERROR(reference::find_kernel(ctx.op)(ctx).with_context(step.node->describe()));
    for (size_t i = 0; i < step.outputs.size(); ++i)
      if (step.outputs[i] != kAbsent) tensors_[step.outputs[i]] = ctx.outputs[i];
    return Status::ok_status();
  }

  std::unique_ptr<backends::cpu::CpuBackend> backend_;
  std::vector<Tensor> tensors_;
  std::vector<Step> steps_;
  std::map<std::string, size_t> input_slots_;
  std::vector<size_t> output_slots_;
  std::vector<std::byte> workspace_;
  size_t workspace_bytes_ = 0;
  int cpu_nodes_ = 0, reference_nodes_ = 0;
  std::map<std::string, int> fallback_ops_;
};

Result<Options> parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto next = [&]() -> Result<std::string> {
      if (i + 1 >= argc) return invalid_argument(arg + " needs a value");
      return std::string(argv[++i]);
    };
    if (arg == "--shapes") {
      KILN_ASSIGN_OR_RETURN(std::string list, next());
      size_t start = 0;
      while (start <= list.size()) {
        const size_t end = std::min(list.find(',', start), list.size());
        const std::string item = list.substr(start, end - start);
        const size_t eq = item.find('=');
        auto shape = eq == std::string::npos ? std::nullopt : Shape::parse(item.substr(eq + 1));
        if (!shape) return invalid_argument("--shapes: expected name=AxBxC, got '" + item + "'");
        o.shapes[item.substr(0, eq)] = *shape;
        start = end + 1;
      }
    } else if (arg == "--input") {
      KILN_ASSIGN_OR_RETURN(std::string item, next());
      const size_t eq = item.find('=');
      if (eq == std::string::npos) return invalid_argument("--input: expected name=file.npy");
      o.inputs[item.substr(0, eq)] = item.substr(eq + 1);
    } else if (arg == "--expect") {
      KILN_ASSIGN_OR_RETURN(o.expect, next());
    } else if (arg == "--threads" || arg == "--warmup" || arg == "--iterations") {
      KILN_ASSIGN_OR_RETURN(std::string v, next());
      const int n = std::atoi(v.c_str());
      (arg == "--threads" ? o.threads : arg == "--warmup" ? o.warmup : o.iterations) = n;
    } else if (arg == "--profile") {
      o.profile = true;
    } else if (o.model.empty() && arg.rfind("--", 0) != 0) {
      o.model = arg;
    } else {
      return invalid_argument("unknown argument " + arg);
    }
  }
  if (o.model.empty()) return invalid_argument("usage: kiln_cpu_bench MODEL --shapes name=AxB[,...] [options]");
  return o;
}

double max_relative_error(const Tensor& got, const Tensor& ref) {
  if (got.shape() != ref.shape() || got.dtype() != DType::kFloat32 || ref.dtype() != DType::kFloat32) return INFINITY;
  double squares = 0.0;
  for (int64_t i = 0; i < ref.numel(); ++i) squares += static_cast<double>(ref.data<float>()[i]) * ref.data<float>()[i];
  const double rms = std::sqrt(squares / static_cast<double>(std::max<int64_t>(1, ref.numel())));
  double worst = 0.0;
  for (int64_t i = 0; i < ref.numel(); ++i) {
    const double r = ref.data<float>()[i], g = got.data<float>()[i];
    if (std::isnan(g)) return INFINITY;
    worst = std::max(worst, std::fabs(g - r) / std::max({std::fabs(r), rms, 1e-30}));
  }
  return worst;
}

Status bench(const Options& options) {
  KILN_ASSIGN_OR_RETURN(ir::Graph graph, onnx_import::import_file(options.model));
  std::map<std::string, Tensor> feeds;
  for (ir::Value* in : graph.inputs()) {
    auto shape = options.shapes.find(in->name());
    if (auto file = options.inputs.find(in->name()); file != options.inputs.end()) {
      KILN_ASSIGN_OR_RETURN(feeds[in->name()], read_npy(file->second));
    } else if (shape != options.shapes.end()) {
      Tensor t(in->type().dtype, shape->second);
      if (t.dtype() == DType::kFloat32)
        for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = static_cast<float>((i * 7919) % 2001) / 1000.0f - 1.0f;
      else if (t.dtype() == DType::kInt64)
        for (int64_t i = 0; i < t.numel(); ++i) t.data<int64_t>()[i] = 1;
      feeds[in->name()] = t;
    } else {
      return invalid_argument("input " + in->name() + " needs --shapes or --input");
    }
    in->mutable_type().shape = ir::sym_shape_from(feeds[in->name()].shape());
  }
  KILN_RETURN_IF_ERROR(ir::infer_shapes(graph));
  passes::PipelineOptions pipeline;
  pipeline.evaluate = engine::reference_node_evaluator();
  KILN_RETURN_IF_ERROR(passes::run_pipeline(graph, pipeline));
  KILN_RETURN_IF_ERROR(ir::infer_shapes(graph));

  Harness harness;
  const auto build_start = Clock::now();
  KILN_RETURN_IF_ERROR(harness.build(graph, options, feeds));
  const double build_ms = ms_since(build_start);
  for (int i = 0; i < options.warmup; ++i) KILN_RETURN_IF_ERROR(harness.run(false));
  std::vector<double> times;
  for (int i = 0; i < options.iterations; ++i) {
    const auto start = Clock::now();
    KILN_RETURN_IF_ERROR(harness.run(options.profile));
    times.push_back(ms_since(start));
  }
  std::sort(times.begin(), times.end());
  double sum = 0.0;
  for (double t : times) sum += t;
  double error = -1.0;
  if (!options.expect.empty()) {
    KILN_ASSIGN_OR_RETURN(Tensor expected, read_npy(options.expect));
    error = max_relative_error(harness.output(0), expected);
  }
  std::string fallbacks;
  for (const auto& [op, count] : harness.fallback_ops())
    fallbacks += (fallbacks.empty() ? "\"" : ", \"") + op + "\": " + std::to_string(count);
  std::printf(
      "{\"model\": \"%s\", \"threads\": %d, \"iterations\": %zu, \"mean_ms\": %.3f, \"median_ms\": %.3f, "
      "\"min_ms\": %.3f, \"build_ms\": %.1f, \"cpu_nodes\": %d, \"reference_nodes\": %d, \"fallback_ops\": {%s}, "
      "\"max_rel_error\": %.3e}\n",
      options.model.c_str(), options.threads, times.size(), times.empty() ? 0.0 : sum / static_cast<double>(times.size()),
      times.empty() ? 0.0 : times[times.size() / 2], times.empty() ? 0.0 : times.front(), build_ms,
      harness.cpu_nodes(), harness.reference_nodes(), fallbacks.c_str(), error);
  if (options.profile) {
    std::map<std::string, double> by_op;
    for (const Step& s : harness.steps())
      by_op[std::string(op_kind_name(s.node->op())) + (s.kernel ? " [" + s.kernel->describe() + "]" : " [reference]")] +=
          s.total_ms / std::max(1, options.iterations);
    std::vector<std::pair<double, std::string>> sorted;
    for (const auto& [k, v] : by_op) sorted.emplace_back(v, k);
    std::sort(sorted.rbegin(), sorted.rend());
    for (const auto& [ms, name] : sorted) std::fprintf(stderr, "%9.3f ms  %s\n", ms, name.c_str());
  }
  return Status::ok_status();
}

}  // namespace

int main(int argc, char** argv) {
  auto options = parse(argc, argv);
  if (!options.ok()) {
    std::fprintf(stderr, "kiln_cpu_bench: %s\n", options.status().to_string().c_str());
    return 2;
  }
  if (options->threads <= 0) options->threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const Status status = bench(*options);
  if (!status.ok()) {
    std::fprintf(stderr, "kiln_cpu_bench: %s\n", status.to_string().c_str());
    return 1;
  }
  return 0;
}
