// Reads a Triton-style config.pbtxt, fills what it leaves out from the model (as Triton's
// auto-complete does for ONNX models) and checks it against the model. Every error names the
// file and, for syntax errors, the line and column: "repo/model/config.pbtxt:3:7: ...".
#pragma once

#include <string>

#include "kiln/session.h"
#include "kiln/status.h"
#include "serving/config_locations.h"
#include "serving/model_config.pb.h"

namespace kiln::serving {

// Parses config text; `display_path` prefixes every error message. `locations`, when given,
// receives the line of every field (for errors found later).
Result<ModelConfig> parse_model_config(const std::string& text, const std::string& display_path,
                                       ConfigLocations* locations = nullptr);

// Reads and parses a config file.
Result<ModelConfig> read_model_config(const std::string& path, const std::string& display_path,
                                      ConfigLocations* locations = nullptr);

// Checks the parts of a configuration that do not need the model: the name matches the model
// directory, batch sizes, priorities, instance groups, version policy. Sets defaults (name,
// platform, version policy latest 1, one KIND_AUTO instance; the loader resolves KIND_AUTO to the
// device the model runs on).
Status validate_model_config(ModelConfig& config, const std::string& directory_name,
                             const std::string& display_path);

// Adds the model's inputs and outputs the configuration does not list and checks the listed ones
// (names, data types and dims) against the model. `float32_interface` is the type the engine
// gives the model's float32 inputs and outputs (float16 or bfloat16 for a low-precision-I/O
// build, see EngineSettings::low_precision_io; float32 otherwise).
Status complete_model_config(ModelConfig& config, const Session& session, const std::string& display_path,
                             DType float32_interface = DType::kFloat32);

}  // namespace kiln::serving
