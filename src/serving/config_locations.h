// Where each field of a parsed config.pbtxt was written, so that errors found after parsing
// (a bad precision, a GPU that is not there) name the line as syntax errors do:
// "repo/m/config.pbtxt:7: parameters[\"precision\"]: ...".
#pragma once

#include <map>
#include <optional>
#include <string>

#include <google/protobuf/text_format.h>

#include "serving/model_config.pb.h"

namespace kiln::serving {

class ConfigLocations {
 public:
  // Empty: a configuration that came from no file (auto-completed); errors then name no line.
  ConfigLocations() = default;
  // Records the line of every field set in `parsed`, keyed by its path: "max_batch_size",
  // "instance_group[0].kind", "input[1].dims", and map entries by key: "parameters[\"precision\"]",
  // "optimization.execution_accelerators.gpu_execution_accelerator[0].parameters[\"precision_mode\"]".
  ConfigLocations(const google::protobuf::TextFormat::ParseInfoTree& tree, const ModelConfig& parsed, const std::string& text);

  // 1-based line of the field, if it was written in the file.
  std::optional<int> line(const std::string& field_path) const;
  // "display_path:LINE: field_path: message", without ":LINE" when the line is unknown.
  std::string error(const std::string& display_path, const std::string& field_path, const std::string& message) const;

 private:
  std::map<std::string, int> lines_;
};

}  // namespace kiln::serving
