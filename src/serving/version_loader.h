// Opening one model version for serving: a .plan file as it is; an .onnx model built into an
// engine for the device, precision and batch sizes its config.pbtxt asks for (through the engine
// cache), or run node by node where the config says so; then the config is completed from the
// model and model_warmup runs. The model is ready only once this returns.
#pragma once

#include <memory>
#include <string>

#include "kiln/session.h"
#include "kiln/status.h"
#include "serving/config_locations.h"
#include "serving/engine_cache.h"
#include "serving/model_config.pb.h"
#include "serving/server_log.h"

namespace kiln::serving {

struct VersionSource {
  std::string model_name;
  int64_t version = 0;
  std::string model_path;       // <repo>/<model>/<version>/<file>
  std::string model_directory;  // <repo>/<model>: warmup data lives in its warmup/ folder
  std::string display_path;     // how errors name config.pbtxt
};

// `config` is completed from the model (inputs and outputs it does not list, KIND_AUTO resolved)
// and checked against it. Logs what was opened ("engine: cpu on ..., fp32, 4 profiles").
Result<std::shared_ptr<const Session>> load_version(ModelConfig& config, const VersionSource& source,
                                                    const ConfigLocations& locations, const EngineCache& cache,
                                                    const LogFn& log);

}  // namespace kiln::serving
