#include "serving/engine_settings.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>

namespace kiln::serving {
namespace {

constexpr int kMaxCpuThreads = 1024;

const std::set<std::string> kPrecisions = {"fp32", "tf32", "fp16", "bf16"};
constexpr const char* kAcceleratorsPath = "optimization.execution_accelerators";
constexpr const char* kTensorRtAccelerator = "tensorrt";
constexpr const char* kPrecisionModeKey = "precision_mode";

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string map_path(const std::string& map_field, const std::string& key) { return map_field + "[\"" + key + "\"]"; }

std::string dims_text(const std::vector<int64_t>& dims) {
  std::string text = "[";
  for (size_t i = 0; i < dims.size(); ++i) text += (i ? "," : "") + std::to_string(dims[i]);
  return text + "]";
}

// Checks a precision name as written ("FP16" from Triton configs, "fp16" from kiln's parameter).
Result<std::string> precision_value(const std::string& written, const ConfigLocations& locations,
                                    const std::string& display_path, const std::string& field) {
  const std::string value = lowercase(written);
  if (kPrecisions.contains(value)) return value;
  std::string why = "'" + written + "' is not a precision kiln builds engines in (fp32, tf32, fp16, bf16)";
  if (value == "int8" || value == "fp8") {
    why += "; quantized engines need calibration: build the plan with `kiln build` and serve model.plan";
  }
  return invalid_argument(locations.error(display_path, field, why));
}

struct Device {
  ModelInstanceGroup::Kind kind = ModelInstanceGroup::KIND_AUTO;
  std::string field;  // the instance_group field that chose it
};

// Every group must agree on one kind (KIND_AUTO groups follow the others): a model version runs
// on one engine, and an engine runs on one device.
Result<Device> instance_device(const ModelConfig& config, const ConfigLocations& locations, const std::string& display_path) {
  Device device;
  for (int i = 0; i < config.instance_group_size(); ++i) {
    const ModelInstanceGroup& group = config.instance_group(i);
    const std::string field = "instance_group[" + std::to_string(i) + "]";
    const ModelInstanceGroup::Kind kind = group.kind();
    if (kind == ModelInstanceGroup::KIND_MODEL) {
      return invalid_argument(locations.error(display_path, field + ".kind",
                                              "KIND_MODEL is not supported; use KIND_GPU, KIND_CPU or KIND_AUTO"));
    }
    if (!group.gpus().empty()) {
      if (kind != ModelInstanceGroup::KIND_GPU) {
        return invalid_argument(locations.error(display_path, field + ".gpus", "gpus needs kind: KIND_GPU"));
      }
      for (int gpu : group.gpus()) {
        if (gpu != 0) {
          return invalid_argument(locations.error(display_path, field + ".gpus",
                                                  "GPU " + std::to_string(gpu) + " is not available: kiln serve runs models on GPU 0"));
        }
      }
    }
    if (!group.profile().empty()) {
      return invalid_argument(locations.error(display_path, field + ".profile",
                                              "choosing TensorRT profiles per instance is not supported: kiln engines pick "
                                              "the profile per batch"));
    }
    if (kind == ModelInstanceGroup::KIND_AUTO) continue;
    if (device.kind != ModelInstanceGroup::KIND_AUTO && device.kind != kind) {
      return invalid_argument(locations.error(display_path, field + ".kind",
                                              ModelInstanceGroup::Kind_Name(kind) + " differs from " + device.field + "'s " +
                                                  ModelInstanceGroup::Kind_Name(device.kind) +
                                                  "; every instance of a model runs on one device"));
    }
    device = {kind, field + ".kind"};
  }
  if (device.field.empty()) device.field = "instance_group[0].kind";
  return device;
}

// An fp16 (bf16) engine whose config lists an input or output of TYPE_FP16 (TYPE_BF16).
bool declares_low_precision_io(const ModelConfig& config, const std::string& precision) {
  const DataType wanted = precision == "fp16" ? TYPE_FP16 : precision == "bf16" ? TYPE_BF16 : TYPE_INVALID;
  if (wanted == TYPE_INVALID) return false;
  for (const ModelInput& input : config.input())
    if (input.data_type() == wanted) return true;
  for (const ModelOutput& output : config.output())
    if (output.data_type() == wanted) return true;
  return false;
}

struct Precisions {
  std::string kiln;      // from parameters["precision"]; empty: not set
  std::string tensorrt;  // from the tensorrt accelerator's precision_mode; empty: not set
  std::string tensorrt_field;
};

Result<Precisions> written_precisions(const ModelConfig& config, const ConfigLocations& locations,
                                      const std::string& display_path, const LogFn& log) {
  Precisions found;
  if (auto it = config.parameters().find(kPrecisionParameter); it != config.parameters().end()) {
    KILN_ASSIGN_OR_RETURN(found.kiln, precision_value(it->second.string_value(), locations, display_path,
                                                      map_path("parameters", kPrecisionParameter)));
  }
  const auto& accelerators = config.optimization().execution_accelerators();
  for (int i = 0; i < accelerators.gpu_execution_accelerator_size(); ++i) {
    const auto& accelerator = accelerators.gpu_execution_accelerator(i);
    const std::string field = std::string(kAcceleratorsPath) + ".gpu_execution_accelerator[" + std::to_string(i) + "]";
    if (accelerator.name() != kTensorRtAccelerator) {
      return invalid_argument(locations.error(display_path, field + ".name",
                                              "'" + accelerator.name() + "' is not an accelerator kiln knows: kiln builds its own "
                                              "engines and reads the precision_mode of a 'tensorrt' accelerator"));
    }
    for (const auto& [key, value] : accelerator.parameters()) {
      const std::string parameter = map_path(field + ".parameters", key);
      if (key != kPrecisionModeKey) {
        log(locations.error(display_path, parameter, "ignored: kiln engines have no such TensorRT setting"));
        continue;
      }
      KILN_ASSIGN_OR_RETURN(found.tensorrt, precision_value(value, locations, display_path, parameter));
      found.tensorrt_field = parameter;
    }
  }
  for (int i = 0; i < accelerators.cpu_execution_accelerator_size(); ++i) {
    const std::string field = std::string(kAcceleratorsPath) + ".cpu_execution_accelerator[" + std::to_string(i) + "]";
    log(locations.error(display_path, field, "ignored: kiln builds its own CPU engines"));
  }
  return found;
}

}  // namespace

Result<EngineSettings> engine_settings_from_config(const ModelConfig& config, const ConfigLocations& locations,
                                                   const std::string& display_path, const LogFn& log) {
  EngineSettings settings;
  if (auto it = config.parameters().find(kExecutorParameter); it != config.parameters().end()) {
    const std::string executor = it->second.string_value();
    if (executor != "engine" && executor != "reference") {
      return invalid_argument(locations.error(display_path, map_path("parameters", kExecutorParameter),
                                              "'" + executor + "' is not an executor: use \"engine\" or \"reference\""));
    }
    settings.build_engine = executor == "engine";
  }
  KILN_ASSIGN_OR_RETURN(Device device, instance_device(config, locations, display_path));
  KILN_ASSIGN_OR_RETURN(Precisions precisions, written_precisions(config, locations, display_path, log));
  if (!settings.build_engine) {
    settings.kind = ModelInstanceGroup::KIND_CPU;  // the reference executor runs on the host
    if (device.kind == ModelInstanceGroup::KIND_GPU) {
      return invalid_argument(locations.error(display_path, device.field,
                                              "KIND_GPU needs an engine; the reference executor runs on the CPU"));
    }
    return settings;
  }

  if (device.kind == ModelInstanceGroup::KIND_GPU) settings.backends = {"cuda"};
  // The reference backend after the CPU one: it covers the ops the fast CPU backend lacks.
  if (device.kind == ModelInstanceGroup::KIND_CPU) settings.backends = {"cpu", "reference"};
  Result<BuildTarget> target = build_target(settings.backends);
  if (!target.ok()) {
    return invalid_argument(locations.error(display_path, device.field,
                                            ModelInstanceGroup::Kind_Name(device.kind) + " cannot be used here: " +
                                                target.status().message()));
  }
  settings.target = *target;
  const bool gpu = settings.target.device_kind == "cuda";
  settings.kind = gpu ? ModelInstanceGroup::KIND_GPU : ModelInstanceGroup::KIND_CPU;

  // Triton applies GPU accelerators only to instances on a GPU; kiln's own parameter always.
  std::string tensorrt = precisions.tensorrt;
  if (!tensorrt.empty() && !gpu) {
    log(locations.error(display_path, precisions.tensorrt_field, "ignored: the model's instances run on the CPU"));
    tensorrt.clear();
  }
  if (!tensorrt.empty() && !precisions.kiln.empty() && tensorrt != precisions.kiln) {
    return invalid_argument(locations.error(display_path, map_path("parameters", kPrecisionParameter),
                                            "'" + precisions.kiln + "' contradicts " + precisions.tensorrt_field + " '" +
                                                tensorrt + "'"));
  }
  if (!precisions.kiln.empty()) settings.precision = precisions.kiln;
  else if (!tensorrt.empty()) settings.precision = tensorrt;
  settings.low_precision_io = declares_low_precision_io(config, settings.precision);

  for (const char* key : {kCpuThreadsParameter, kTritonCpuThreadsParameter}) {
    auto it = config.parameters().find(key);
    if (it == config.parameters().end()) continue;
    const std::string& text = it->second.string_value();
    int threads = -1;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), threads);
    if (error != std::errc() || end != text.data() + text.size() || threads < 0 || threads > kMaxCpuThreads) {
      return invalid_argument(locations.error(display_path, map_path("parameters", key),
                                              "'" + text + "' is not a thread count (0 to " + std::to_string(kMaxCpuThreads) +
                                                  "; 0: the server's default)"));
    }
    if (settings.cpu_threads != 0 && threads != 0 && threads != settings.cpu_threads) {
      return invalid_argument(locations.error(display_path, map_path("parameters", key),
                                              "contradicts parameters[\"" + std::string(kCpuThreadsParameter) + "\"]"));
    }
    if (threads != 0) settings.cpu_threads = threads;
  }

  if (config.optimization().has_cuda()) {
    const auto& cuda = config.optimization().cuda();
    settings.cuda_graphs = cuda.graphs();
    if (cuda.busy_wait_events()) log(locations.error(display_path, "optimization.cuda.busy_wait_events", "ignored"));
    if (cuda.output_copy_stream()) log(locations.error(display_path, "optimization.cuda.output_copy_stream", "ignored"));
    if (!cuda.graph_spec().empty()) {
      log(locations.error(display_path, "optimization.cuda.graph_spec",
                          "ignored: kiln captures one CUDA graph per optimization profile and instance"));
    }
  }
  return settings;
}

std::vector<int64_t> profile_batch_sizes(const ModelConfig& config) {
  const int64_t max_batch = config.max_batch_size();
  if (max_batch <= 0) return {};
  std::set<int64_t> sizes = {max_batch};
  if (config.has_dynamic_batching() && !config.dynamic_batching().preferred_batch_size().empty()) {
    for (int size : config.dynamic_batching().preferred_batch_size()) sizes.insert(size);
  } else {
    for (int64_t size = 1; size < max_batch; size *= 2) sizes.insert(size);
  }
  return {sizes.begin(), sizes.end()};
}

Result<std::vector<std::map<std::string, Shape>>> engine_profiles(const ModelConfig& config, const ConfigLocations& locations,
                                                                  const std::string& display_path) {
  std::vector<int64_t> batches = profile_batch_sizes(config);
  const bool batched = !batches.empty();
  if (!batched) batches = {0};  // one profile, no batch dimension
  std::vector<std::map<std::string, Shape>> profiles(batches.size());
  for (int i = 0; i < config.input_size(); ++i) {
    const ModelInput& input = config.input(i);
    // The model's view of the input: the reshape target when there is one.
    const bool reshaped = input.has_reshape();
    const auto& written = reshaped ? input.reshape().shape() : input.dims();
    const std::vector<int64_t> dims(written.begin(), written.end());
    const std::string field = "input[" + std::to_string(i) + "]" + (reshaped ? ".reshape.shape" : ".dims");
    for (size_t d = 0; d < dims.size(); ++d) {
      if (dims[d] > 0) continue;
      return invalid_argument(locations.error(
          display_path, field,
          "input '" + input.name() + "' has the variable dimension " + std::to_string(d) + " in " + dims_text(dims) +
              "; an engine is built for concrete shapes: give every size in config.pbtxt (the batch dimension comes from "
              "max_batch_size), or set parameters { key: \"executor\" value: { string_value: \"reference\" } } to run "
              "node by node with any shape"));
    }
    for (size_t p = 0; p < batches.size(); ++p) {
      std::vector<int64_t> shape = dims;
      if (batched) shape.insert(shape.begin(), batches[p]);
      profiles[p].emplace(input.name(), Shape(shape));
    }
  }
  return profiles;
}

}  // namespace kiln::serving
