// The engine options `kiln run` and `kiln bench` share (--backend, --precision,
// --no-cuda-graphs, --optimize, --cpu-threads) and opening a session with them: for an .onnx model with a backend the
// inputs are prepared first (they fix the dynamic dims), then the engine is built for exactly
// those shapes.
#pragma once

#include <map>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "kiln/session.h"
#include "model_inputs.h"

namespace kiln::cli {

struct EngineOptions {
  std::string backend;          // empty: reference executor for .onnx
  std::string precision = "fp32";
  bool no_cuda_graphs = false;
  bool optimize = false;        // reference executor: run the graph optimizer first
  bool channels_last = false;   // convs and pools NHWC even off CUDA (CUDA engines always are)
  int cpu_threads = 0;          // engines' CPU kernels: 0 the process default (KILN_CPU_THREADS, else every core)
};

void add_engine_options(CLI::App& app, EngineOptions& options);

struct OpenedModel {
  std::unique_ptr<Session> session;
  std::map<std::string, Tensor> feeds;
};

Result<OpenedModel> open_model(const std::string& model, const EngineOptions& engine, const InputRequest& request);

}  // namespace kiln::cli
