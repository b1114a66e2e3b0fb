#include "engine_options.h"

namespace kiln::cli {

void add_engine_options(CLI::App& app, EngineOptions& options) {
  app.add_option("--backend", options.backend,
                 "Build an engine for an .onnx model first: cuda, cpu, reference, auto, or a preference list such as "
                 "cpu,reference (nodes the first cannot run go to the next; default: run node by node on the reference "
                 "executor)");
  app.add_option("--precision", options.precision, "Engine precision: fp32, tf32, fp16, bf16")
      ->check(CLI::IsMember({"fp32", "tf32", "fp16", "bf16"}))
      ->capture_default_str();
  app.add_flag("--no-cuda-graphs", options.no_cuda_graphs, "Launch every step each time instead of replaying a CUDA graph");
  app.add_flag("--optimize", options.optimize,
               "Without --backend: run the graph optimizer (kiln inspect --passes shows it) before the reference executor");
  app.add_flag("--channels-last", options.channels_last,
               "Rewrite convs and pools to channels-last (NHWC) with the optimizer, whatever the backend (CUDA engines "
               "always are); with --optimize or --backend");
  app.add_option("--cpu-threads", options.cpu_threads,
                 "Threads of the engine's CPU kernels (cpu backend steps; default: KILN_CPU_THREADS, else every core)")
      ->check(CLI::Range(1, 1024));
}

Result<OpenedModel> open_model(const std::string& model, const EngineOptions& engine, const InputRequest& request) {
  SessionOptions session_options;
  session_options.cuda_graphs = !engine.no_cuda_graphs;
  session_options.optimize = engine.optimize;
  session_options.channels_last = engine.channels_last;
  session_options.threads = engine.cpu_threads;
  OpenedModel opened;
  KILN_ASSIGN_OR_RETURN(opened.session, Session::open(model, session_options));
  KILN_ASSIGN_OR_RETURN(opened.feeds, prepare_inputs(*opened.session, request));
  if (engine.backend.empty()) return opened;
  if (opened.session->description() != "reference executor")
    return invalid_argument("--backend applies to .onnx models; '" + model + "' is a plan built for its device");
  session_options.backend = engine.backend;
  session_options.precision = engine.precision;
  for (const auto& [name, tensor] : opened.feeds) session_options.shapes[name] = tensor.shape();
  KILN_ASSIGN_OR_RETURN(opened.session, Session::open(model, session_options));
  return opened;
}

}  // namespace kiln::cli
