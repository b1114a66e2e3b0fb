// How the server runs a model's ONNX versions, read from its config.pbtxt: which device
// (instance_group kind), which precision (Triton's TensorRT accelerator precision_mode or kiln's
// `precision` parameter), CUDA graphs, and the optimization profiles an engine is built with.
// docs/serving-api.md ("Engines on load") is the user-facing description.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "kiln/builder.h"
#include "kiln/shape.h"
#include "kiln/status.h"
#include "serving/config_locations.h"
#include "serving/model_config.pb.h"
#include "serving/server_log.h"

namespace kiln::serving {

// parameters { key: "executor" value: { string_value: "reference" } } serves the ONNX model
// node by node (any input shapes, slow) instead of building an engine.
inline constexpr const char* kExecutorParameter = "executor";
inline constexpr const char* kPrecisionParameter = "precision";
// Threads of the engine's CPU kernels for this model: kiln's name, and Triton's onnxruntime
// backend's, so that its configs keep their meaning ("0": the server's default).
inline constexpr const char* kCpuThreadsParameter = "cpu_threads";
inline constexpr const char* kTritonCpuThreadsParameter = "intra_op_thread_count";

struct EngineSettings {
  bool build_engine = true;            // false: the reference executor
  ModelInstanceGroup::Kind kind = ModelInstanceGroup::KIND_CPU;  // KIND_GPU or KIND_CPU
  std::vector<std::string> backends;   // BuildSettings::backends
  BuildTarget target;                  // the device those backends build for here
  std::string precision = "fp32";
  // An fp16/bf16 engine whose config declares an input or output TYPE_FP16 (TYPE_BF16): the
  // model's float32 inputs and outputs take that type (BuildSettings::low_precision_io), so
  // clients send half the bytes. Off otherwise; then a declared type must match the model's.
  bool low_precision_io = false;
  bool cuda_graphs = true;             // kiln's default when optimization.cuda is absent
  int cpu_threads = 0;                 // 0: the process's CPU backend (KILN_CPU_THREADS, else every core)
};

// Reads the settings and resolves the device: KIND_GPU -> "cuda" (an error naming the field
// where this build or machine has no GPU), KIND_CPU -> the host backends, KIND_AUTO -> the
// fastest device here. Values kiln cannot honour are errors naming file, line and field;
// settings that do not apply (a CPU accelerator, a TensorRT workspace size) are logged as ignored.
Result<EngineSettings> engine_settings_from_config(const ModelConfig& config, const ConfigLocations& locations,
                                                   const std::string& display_path, const LogFn& log);

// The batch sizes that get one optimization profile each: none (an empty list) when the model
// does not batch; else the preferred batch sizes plus max_batch_size, or, when none are
// preferred, the powers of two below max_batch_size plus max_batch_size itself.
std::vector<int64_t> profile_batch_sizes(const ModelConfig& config);

// One input-name -> shape map per profile, from a completed configuration (its inputs listed).
// A variable (-1) dimension other than the batch dimension is an error naming the input: an
// engine is built for concrete shapes.
Result<std::vector<std::map<std::string, Shape>>> engine_profiles(const ModelConfig& config, const ConfigLocations& locations,
                                                                  const std::string& display_path);

}  // namespace kiln::serving
