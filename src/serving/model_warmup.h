// model_warmup (Triton's ModelWarmup): inferences run on a freshly loaded model version before it
// is marked ready, so the first clients do not pay for first-run work (context creation, CUDA
// graph capture, page faults on the weights). A warmup that fails fails the load.
#pragma once

#include <string>

#include "kiln/session.h"
#include "kiln/status.h"
#include "serving/config_locations.h"
#include "serving/model_config.pb.h"

namespace kiln::serving {

// Checks every model_warmup entry against the completed configuration (input names, data types,
// dims, batch_size) and reads its input_data_file from `<model_directory>/warmup/`, then runs
// each entry `count` times (at least once) on `session`. Errors name file, line and field.
Status run_model_warmup(const ModelConfig& config, const Session& session, const std::string& model_directory,
                        const ConfigLocations& locations, const std::string& display_path);

}  // namespace kiln::serving
