// kiln build MODEL.onnx -o MODEL.plan [--fp32|--tf32|--fp16|--bf16] [--shapes ...] [--batch N]
//            [--backend NAME]... [--timing-cache FILE] [--no-optimize] [--channels-last] [--approximate-gelu]
//            [--low-precision-io]
// The trtexec --saveEngine step: optimize the graph, choose and time kernels, plan memory, and
// write a plan file that kiln run/bench/serve load without rebuilding.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <unistd.h>

#include "cli_common.h"
#include "commands.h"
#include "kiln/builder.h"
#include "model_inputs.h"

namespace kiln::cli {
namespace {

struct BuildCommandOptions {
  std::string model;
  std::string output;
  std::string precision = "fp32";
  bool fp32 = false, tf32 = false, fp16 = false, bf16 = false;
  std::vector<std::string> shapes;
  std::vector<int64_t> batches;
  std::vector<std::string> min_shapes, opt_shapes, max_shapes;
  std::vector<std::string> backends;
  std::string timing_cache;
  bool no_optimize = false;
  bool channels_last = false;
  bool approximate_gelu = false;
  bool low_precision_io = false;
  bool verbose = false;
};

Result<std::string> chosen_precision(const BuildCommandOptions& o) {
  const int flags = int{o.fp32} + int{o.tf32} + int{o.fp16} + int{o.bf16};
  if (flags > 1) return invalid_argument("give at most one of --fp32, --tf32, --fp16, --bf16");
  if (o.tf32) return std::string("tf32");
  if (o.fp16) return std::string("fp16");
  if (o.bf16) return std::string("bf16");
  if (o.fp32) return std::string("fp32");
  return o.precision;
}

// A one-line progress bar on a terminal; a line per tenth of the graph otherwise (logs).
class BuildProgressPrinter {
 public:
  void operator()(const BuildProgressInfo& p) {
    constexpr int kWidth = 30;
    if (p.total == 0) return;
    if (p.profiles > 1 && p.profile != profile_) {
      profile_ = p.profile;
      last_tenth_ = 0;
    }
    const std::string prefix = p.profiles > 1 ? "profile " + std::to_string(p.profile + 1) + "/" + std::to_string(p.profiles) + " " : "";
    const size_t tenth = p.done * 10 / p.total;
    if (tty_) {
      const int filled = static_cast<int>(p.done * kWidth / p.total);
      std::fprintf(stderr, "\r%s[%.*s%*s] %zu/%zu %-40.40s", prefix.c_str(), filled, "##############################",
                   kWidth - filled, "", p.done, p.total, (p.node + (p.timed ? " (timed)" : "")).c_str());
      if (p.done == p.total) std::fprintf(stderr, "\n");
    } else if (tenth != last_tenth_ || p.done == p.total) {
      std::fprintf(stderr, "build: %s%zu/%zu nodes (%s: %s)\n", prefix.c_str(), p.done, p.total, p.node.c_str(),
                   p.implementation.c_str());
    }
    last_tenth_ = tenth;
  }

 private:
  bool tty_ = isatty(fileno(stderr)) != 0;
  size_t last_tenth_ = 0;
  size_t profile_ = 0;
};

// Concrete input shapes per profile, the way kiln run/bench choose them (--shapes, --batch, else
// 1): one profile per --batch value, or --min/--opt/--max-shapes: profiles at min, opt and max,
// plus every power of two in between when only dim 0 varies (the batch).
Result<std::vector<std::map<std::string, Shape>>> profile_shapes(const BuildCommandOptions& options) {
  KILN_ASSIGN_OR_RETURN(auto session, Session::open(options.model));
  auto concrete = [&](const std::vector<std::string>& specs, std::optional<int64_t> batch) -> Result<std::map<std::string, Shape>> {
    InputRequest request;
    request.batch = batch;
    KILN_ASSIGN_OR_RETURN(request.shapes, parse_shape_specs(specs));
    KILN_ASSIGN_OR_RETURN(auto feeds, prepare_inputs(*session, request));
    std::map<std::string, Shape> shapes;
    for (const auto& [name, tensor] : feeds) shapes[name] = tensor.shape();
    return shapes;
  };
  std::vector<std::map<std::string, Shape>> profiles;
  const bool ranged = !options.min_shapes.empty() || !options.opt_shapes.empty() || !options.max_shapes.empty();
  if (ranged) {
    if (options.min_shapes.empty() || options.max_shapes.empty())
      return invalid_argument("--min-shapes and --max-shapes go together (--opt-shapes is optional)");
    if (!options.batches.empty()) return invalid_argument("give either --batch or --min/--opt/--max-shapes");
    KILN_ASSIGN_OR_RETURN(auto lo, concrete(options.min_shapes, std::nullopt));
    KILN_ASSIGN_OR_RETURN(auto hi, concrete(options.max_shapes, std::nullopt));
    profiles.push_back(lo);
    bool only_batch_varies = true;
    for (const auto& [name, shape] : lo) {
      const Shape& top = hi.at(name);
      if (top.rank() != shape.rank() || shape.rank() == 0) return invalid_argument("input '" + name + "': --min-shapes and --max-shapes differ in rank");
      for (size_t d = 0; d < shape.rank(); ++d) {
        if (top[d] < shape[d]) return invalid_argument("input '" + name + "': a --max-shapes dim is below --min-shapes");
        if (d > 0 && top[d] != shape[d]) only_batch_varies = false;
      }
    }
    if (only_batch_varies) {
      const int64_t first = lo.begin()->second[0], last = hi.begin()->second[0];
      for (int64_t b = 1; b < last; b *= 2) {
        if (b <= first) continue;
        auto mid = lo;
        for (auto& [name, shape] : mid) {
          std::vector<int64_t> dims = shape.dims();
          dims[0] = b;
          shape = Shape(dims);
        }
        profiles.push_back(mid);
      }
    }
    if (!options.opt_shapes.empty()) {
      KILN_ASSIGN_OR_RETURN(auto opt, concrete(options.opt_shapes, std::nullopt));
      profiles.push_back(opt);
    }
    profiles.push_back(hi);
  } else if (options.batches.empty()) {
    KILN_ASSIGN_OR_RETURN(auto shapes, concrete(options.shapes, std::nullopt));
    profiles.push_back(shapes);
  } else {
    for (int64_t b : options.batches) {
      KILN_ASSIGN_OR_RETURN(auto shapes, concrete(options.shapes, b));
      profiles.push_back(shapes);
    }
  }
  // Same shapes twice would only double the build.
  std::vector<std::map<std::string, Shape>> unique;
  for (auto& p : profiles)
    if (std::find(unique.begin(), unique.end(), p) == unique.end()) unique.push_back(std::move(p));
  std::sort(unique.begin(), unique.end(), [](const auto& a, const auto& b) {
    return a.begin()->second.numel() < b.begin()->second.numel();
  });
  return unique;
}

Status run_build(const BuildCommandOptions& options) {
  KILN_RETURN_IF_ERROR(check_model_file(options.model));
  BuildSettings settings;
  KILN_ASSIGN_OR_RETURN(settings.precision, chosen_precision(options));
  KILN_ASSIGN_OR_RETURN(settings.profiles, profile_shapes(options));
  settings.backends = options.backends;
  settings.timing_cache = options.timing_cache;
  settings.optimize = !options.no_optimize;
  settings.channels_last = options.channels_last;
  settings.approximate_gelu = options.approximate_gelu;
  settings.low_precision_io = options.low_precision_io;
  if (options.low_precision_io && settings.precision != "fp16" && settings.precision != "bf16")
    return invalid_argument("--low-precision-io needs --fp16 or --bf16 (it gives the float32 inputs and outputs that type)");
  BuildProgressPrinter printer;
  settings.progress = [&printer](const BuildProgressInfo& p) { printer(p); };
  if (options.verbose)
    settings.tactic_timed = [](const TacticTimingInfo& t) {
      std::printf("tactic %s: %s %.4f ms%s\n", t.node.c_str(), t.tactic.c_str(), t.ms, t.cut_short ? " (after one run, cut short)" : "");
    };

  const auto start = std::chrono::steady_clock::now();
  KILN_ASSIGN_OR_RETURN(BuildSummary summary, build_plan(options.model, options.output, settings));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("Built %s -> %s in %.2f s\n", options.model.c_str(), options.output.c_str(), seconds);
  std::printf("Device: %s  Precision: %s  Profiles: %zu\n", summary.device.c_str(), settings.precision.c_str(),
              summary.profiles);
  std::printf("Steps: %zu (%zu views)", summary.steps, summary.views);
  for (const auto& [backend, count] : summary.steps_per_backend) std::printf("  %s %zu", backend.c_str(), count);
  std::printf("\nTactics timed: %zu  timing-cache hits: %zu\n", summary.tactics_timed, summary.timing_cache_hits);
  std::printf("Memory: activations %s (%s without sharing), weights %s\n",
              human_bytes(static_cast<double>(summary.arena_bytes)).c_str(),
              human_bytes(static_cast<double>(summary.naive_activation_bytes)).c_str(),
              human_bytes(static_cast<double>(summary.weights_bytes)).c_str());
  return {};
}

}  // namespace

Subcommand add_build_command(CLI::App& parent) {
  auto options = std::make_shared<BuildCommandOptions>();
  CLI::App* app = parent.add_subcommand("build", "Build an engine (.plan) from an ONNX model");
  app->add_option("model", options->model, "Model file (.onnx)")->required();
  app->add_option("-o,--output", options->output, "Plan file to write")->required();
  app->add_option("--precision", options->precision, "fp32, tf32, fp16 or bf16")
      ->check(CLI::IsMember({"fp32", "tf32", "fp16", "bf16"}))
      ->capture_default_str();
  app->add_flag("--fp32", options->fp32, "Same as --precision fp32");
  app->add_flag("--tf32", options->tf32, "Same as --precision tf32 (FP32 storage, TF32 tensor cores)");
  app->add_flag("--fp16", options->fp16, "Same as --precision fp16");
  app->add_flag("--bf16", options->bf16, "Same as --precision bf16");
  app->add_option("--shapes", options->shapes, "Shapes for dynamic inputs: NAME:DxDxD[,NAME:DxD...]")
      ->allow_extra_args(false);
  app->add_option("--batch", options->batches,
                  "Dim 0 of every input whose dim 0 is dynamic; a list (1,8,32) builds one profile per size")
      ->delimiter(',')
      ->check(at_least(1, "1"));
  app->add_option("--min-shapes", options->min_shapes, "Smallest input shapes (NAME:DxD,...): profiles from min to max")
      ->allow_extra_args(false);
  app->add_option("--opt-shapes", options->opt_shapes, "An extra profile at these shapes")->allow_extra_args(false);
  app->add_option("--max-shapes", options->max_shapes, "Largest input shapes")->allow_extra_args(false);
  app->add_option("--backend", options->backends, "Backends in preference order, repeatable or comma-separated (cpu,reference): cuda, cpu, reference")
      ->delimiter(',')
      ->allow_extra_args(false);
  app->add_option("--timing-cache", options->timing_cache, "Tactic timing cache file, read and updated");
  app->add_flag("--no-optimize", options->no_optimize, "Skip the graph optimizer");
  app->add_flag("--channels-last", options->channels_last,
                "Convs and pools channels-last (NHWC) on any backend; CUDA builds always are");
  app->add_flag("--approximate-gelu", options->approximate_gelu,
                "Run erf GELU as its tanh approximation (max deviation 4.7e-4) so GPU GEMMs fuse it; changes results");
  app->add_flag("--low-precision-io", options->low_precision_io,
                "With --fp16/--bf16: float32 inputs and outputs take that type too (clients convert; half the bytes)");
  app->add_flag("--verbose", options->verbose, "Print every tactic timed, per node, with its time");
  return {app, [options] { return run_build(*options); }};
}

}  // namespace kiln::cli
