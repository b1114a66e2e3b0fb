// The public entry point for running a model: open a model file, inspect its inputs and
// outputs, run inferences. Thread-safe: run() may be called from several threads at once.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kiln/dtype.h"
#include "kiln/shape.h"
#include "kiln/status.h"
#include "kiln/tensor.h"

namespace kiln {

struct TensorInfo {
  std::string name;
  DType dtype = DType::kUndefined;
  std::vector<int64_t> dims;            // kDynamicDim for unknown sizes; empty for scalars
  std::vector<std::string> dim_names;   // symbolic names of unknown dims ("" if none)
  bool rank_known = true;
  bool has_default = false;             // an initializer also listed as an input: feeding it is optional
};

struct SessionOptions {
  int threads = 0;  // 0: the backend's default
  // How an .onnx model runs. Empty: node by node on the reference executor (any shapes). A
  // backend name, a preference list ("cpu,reference") or "auto" (the fastest one here): an
  // engine is built in memory first, which needs every input shape concrete (`shapes`).
  // Plan files always run on the backends they were built for.
  std::string backend;
  std::string precision = "fp32";              // fp32, tf32, fp16, bf16 (engines only)
  std::map<std::string, Shape> shapes;          // concrete sizes for dynamic input dims
  bool cuda_graphs = true;                      // engines: capture the step list once, replay it
  // Reference executor only: run the graph optimizer (passes/pipeline.cpp) on the imported
  // graph first, keeping its dynamic dims. Engines always run it.
  bool optimize = false;
  // Run convs and pools channels-last (NHWC). CUDA engines always do; this forces it for the
  // other backends and the optimized reference executor too (to check the rewritten graph).
  bool channels_last = false;
};

// Where the time of one run went (engines; zeros on the reference executor).
struct RunTimings {
  double h2d_ms = 0;
  double compute_ms = 0;
  double d2h_ms = 0;
};

// One step of an engine with its measured device time.
struct StepProfile {
  std::string name;
  std::string op;
  std::string implementation;  // backend and tactic, or "view"
  double ms = 0;
};

class Session {
 public:
  virtual ~Session() = default;
  // Opens an .onnx model or a .plan file (told apart by content).
  static Result<std::unique_ptr<Session>> open(const std::string& model_path,
                                               const SessionOptions& options = {});

  virtual const std::vector<TensorInfo>& inputs() const = 0;
  virtual const std::vector<TensorInfo>& outputs() const = 0;
  // Runs one inference. Every model input must be given, with the declared dtype and a shape
  // that fits the declared one; the result holds one tensor per model output, in order.
  virtual Result<std::vector<Tensor>> run(const std::map<std::string, Tensor>& inputs) const = 0;
  // run() that also reports the H2D / compute / D2H split.
  virtual Result<std::vector<Tensor>> run_timed(const std::map<std::string, Tensor>& inputs, RunTimings* timings) const {
    if (timings) *timings = {};
    return run(inputs);
  }
  // Per-step device times averaged over `iterations` (engines only).
  virtual Result<std::vector<StepProfile>> profile_steps(const std::map<std::string, Tensor>& inputs, int iterations) const {
    (void)inputs;
    (void)iterations;
    return unimplemented("per-layer profiles need an engine (a .plan file or --backend)");
  }
  // "reference executor" or "engine: cuda on NVIDIA H200, fp16".
  virtual std::string description() const { return "session"; }
};

}  // namespace kiln
