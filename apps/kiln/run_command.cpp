// kiln run MODEL [--input NAME=FILE.npy]... [--output-dir DIR] [--seed N] [--shapes ...]:
// one inference; prints a summary of each output and optionally saves them as .npy files.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <memory>
#include <set>

#include <fmt/core.h>

#include "cli_common.h"
#include "commands.h"
#include "engine_options.h"
#include "core/dtype_dispatch.h"
#include "core/npy.h"
#include "kiln/inspect.h"
#include "kiln/session.h"
#include "model_inputs.h"

namespace kiln::cli {
namespace {

constexpr size_t kPreviewValues = 8;

struct RunOptions {
  std::string model;
  std::vector<std::string> inputs;
  std::string output_dir;
  uint64_t seed = 0;
  std::vector<std::string> shapes;
  EngineOptions engine;
};

struct Summary {
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();
  double mean = 0;
  int64_t nan_count = 0;
  std::vector<double> preview;
};

Summary summarize(const Tensor& t) {
  Summary s;
  double sum = 0;
  int64_t finite_or_inf = 0;
  visit_dtype(t.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* data = t.data<T>();
    for (int64_t i = 0; i < t.numel(); ++i) {
      const double v = convert_element<double>(data[i]);
      if (static_cast<size_t>(i) < kPreviewValues) s.preview.push_back(v);
      if (std::isnan(v)) {
        ++s.nan_count;
        continue;
      }
      s.min = std::min(s.min, v);
      s.max = std::max(s.max, v);
      sum += v;
      ++finite_or_inf;
    }
  });
  s.mean = finite_or_inf ? sum / static_cast<double>(finite_or_inf) : std::nan("");
  return s;
}

void print_output(const std::string& name, const Tensor& t) {
  std::printf("%s: %s[%s]\n", name.c_str(), std::string(dtype_name(t.dtype())).c_str(), t.shape().to_string().c_str());
  if (t.dtype() == DType::kBytes) {
    std::string preview;
    for (size_t i = 0; i < t.strings().size() && i < kPreviewValues; ++i)
      preview += (i ? ", \"" : "\"") + t.strings()[i] + "\"";
    std::printf("  values: [%s%s]\n", preview.c_str(), t.strings().size() > kPreviewValues ? ", ..." : "");
    return;
  }
  if (t.numel() == 0) {
    std::printf("  (empty)\n");
    return;
  }
  const Summary s = summarize(t);
  std::printf("  min %.6g  max %.6g  mean %.6g", s.min, s.max, s.mean);
  if (s.nan_count) std::printf("  nan %lld", static_cast<long long>(s.nan_count));
  std::string preview;
  for (size_t i = 0; i < s.preview.size(); ++i) preview += fmt::format("{}{:.6g}", i ? ", " : "", s.preview[i]);
  std::printf("\n  values: [%s%s]\n", preview.c_str(), static_cast<size_t>(t.numel()) > kPreviewValues ? ", ..." : "");
}

Status prepare_output_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return invalid_argument("cannot create output directory '" + dir + "': " + ec.message());
  if (!std::filesystem::is_directory(dir, ec))
    return invalid_argument("output directory '" + dir + "' is not a directory");
  return {};
}

Status run_once(const RunOptions& options) {
  InputRequest request;
  request.files = options.inputs;
  request.seed = options.seed;
  KILN_ASSIGN_OR_RETURN(request.shapes, parse_shape_specs(options.shapes));
  KILN_RETURN_IF_ERROR(check_model_file(options.model));
  KILN_ASSIGN_OR_RETURN(OpenedModel opened, open_model(options.model, options.engine, request));
  const std::unique_ptr<Session>& session = opened.session;
  const std::map<std::string, Tensor>& feeds = opened.feeds;
  if (!options.output_dir.empty()) KILN_RETURN_IF_ERROR(prepare_output_dir(options.output_dir));
  KILN_ASSIGN_OR_RETURN(std::vector<Tensor> outputs, session->run(feeds));

  const std::vector<TensorInfo>& infos = session->outputs();
  std::set<std::string> used_file_names;
  for (size_t i = 0; i < outputs.size(); ++i) {
    const std::string name = i < infos.size() ? infos[i].name : "output" + std::to_string(i);
    print_output(name, outputs[i]);
    if (options.output_dir.empty()) continue;
    // Two outputs may sanitise to the same name; keep both files.
    std::string stem = sanitize_file_name(name);
    for (int suffix = 1; used_file_names.count(stem); ++suffix) stem = sanitize_file_name(name) + "_" + std::to_string(suffix);
    used_file_names.insert(stem);
    const std::string path = (std::filesystem::path(options.output_dir) / (stem + ".npy")).string();
    Status written = write_npy(path, outputs[i]);
    if (!written.ok()) return written.with_context("output '" + name + "'");
    std::printf("  saved to %s\n", path.c_str());
  }
  return {};
}

}  // namespace

Subcommand add_run_command(CLI::App& parent) {
  auto options = std::make_shared<RunOptions>();
  CLI::App* app = parent.add_subcommand("run", "Run one inference (random inputs unless given) and show the outputs");
  app->add_option("model", options->model, "Model file (.onnx or .plan)")->required();
  app->add_option("--input", options->inputs, "Input data: NAME=FILE.npy (repeatable)")->allow_extra_args(false);
  app->add_option("--output-dir", options->output_dir, "Write each output to DIR/<output name>.npy");
  app->add_option("--seed", options->seed, "Seed for the random inputs")->check(at_least(0, "0"))->capture_default_str();
  app->add_option("--shapes", options->shapes, "Shapes for dynamic inputs: NAME:DxDxD[,NAME:DxD...]")
      ->allow_extra_args(false);
  add_engine_options(*app, options->engine);
  return {app, [options] { return run_once(*options); }};
}

}  // namespace kiln::cli
