// kiln build MODEL.onnx -o MODEL.plan [--fp32|--tf32|--fp16|--bf16] [--shapes ...] [--batch N]
//            [--backend NAME]... [--timing-cache FILE] [--no-optimize]
// The trtexec --saveEngine step: optimize the graph, choose and time kernels, plan memory, and
// write a plan file that kiln run/bench/serve load without rebuilding.
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
  std::optional<int64_t> batch;
  std::vector<std::string> backends;
  std::string timing_cache;
  bool no_optimize = false;
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
    const size_t tenth = p.done * 10 / p.total;
    if (tty_) {
      const int filled = static_cast<int>(p.done * kWidth / p.total);
      std::fprintf(stderr, "\r[%.*s%*s] %zu/%zu %-40.40s", filled, "##############################", kWidth - filled, "",
                   p.done, p.total, (p.node + (p.timed ? " (timed)" : "")).c_str());
      if (p.done == p.total) std::fprintf(stderr, "\n");
    } else if (tenth != last_tenth_ || p.done == p.total) {
      std::fprintf(stderr, "build: %zu/%zu nodes (%s: %s)\n", p.done, p.total, p.node.c_str(), p.implementation.c_str());
    }
    last_tenth_ = tenth;
  }

 private:
  bool tty_ = isatty(fileno(stderr)) != 0;
  size_t last_tenth_ = 0;
};

Status run_build(const BuildCommandOptions& options) {
  KILN_RETURN_IF_ERROR(check_model_file(options.model));
  BuildSettings settings;
  KILN_ASSIGN_OR_RETURN(settings.precision, chosen_precision(options));
  // Dynamic dims become concrete the way kiln run/bench choose them (--shapes, --batch, 1).
  InputRequest request;
  request.batch = options.batch;
  KILN_ASSIGN_OR_RETURN(request.shapes, parse_shape_specs(options.shapes));
  KILN_ASSIGN_OR_RETURN(auto session, Session::open(options.model));
  KILN_ASSIGN_OR_RETURN(auto feeds, prepare_inputs(*session, request));
  for (const auto& [name, tensor] : feeds) settings.shapes[name] = tensor.shape();
  settings.backends = options.backends;
  settings.timing_cache = options.timing_cache;
  settings.optimize = !options.no_optimize;
  BuildProgressPrinter printer;
  settings.progress = [&printer](const BuildProgressInfo& p) { printer(p); };

  const auto start = std::chrono::steady_clock::now();
  KILN_ASSIGN_OR_RETURN(BuildSummary summary, build_plan(options.model, options.output, settings));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("Built %s -> %s in %.2f s\n", options.model.c_str(), options.output.c_str(), seconds);
  std::printf("Device: %s  Precision: %s\n", summary.device.c_str(), settings.precision.c_str());
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
  app->add_option("--batch", options->batch, "Dim 0 of every input whose dim 0 is dynamic")->check(at_least(1, "1"));
  app->add_option("--backend", options->backends, "Backend to use, in preference order (repeatable): cuda, cpu, reference")
      ->allow_extra_args(false);
  app->add_option("--timing-cache", options->timing_cache, "Tactic timing cache file, read and updated");
  app->add_flag("--no-optimize", options->no_optimize, "Skip the graph optimizer");
  return {app, [options] { return run_build(*options); }};
}

}  // namespace kiln::cli
