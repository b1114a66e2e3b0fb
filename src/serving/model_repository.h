// A Triton-layout model repository on local disk:
//   <root>/<model>/config.pbtxt          (optional: auto-completed from the model when absent)
//   <root>/<model>/<version>/model.plan  (numeric version directories; an engine built by
//   <root>/<model>/<version>/model.onnx   `kiln build`, else an ONNX model built on load)
// Model names and versions come from clients (load, infer), so they are checked before they
// touch the file system: no path separators, no "..", no hidden names.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kiln/status.h"
#include "serving/model_config.pb.h"

namespace kiln::serving {

inline constexpr const char* kConfigFileName = "config.pbtxt";
inline constexpr const char* kDefaultPlanFileName = "model.plan";
inline constexpr const char* kDefaultModelFileName = "model.onnx";

// A model name that is a single, ordinary directory name.
Status check_model_name(const std::string& name);
// A version as clients spell it: decimal digits only. Returns the number.
Result<int64_t> parse_version(const std::string& text);

// The versions the policy serves, highest first.
std::vector<int64_t> select_versions(const ModelVersionPolicy& policy, std::vector<int64_t> available);

class ModelRepository {
 public:
  explicit ModelRepository(std::string root) : root_(std::move(root)) {}

  const std::string& root() const { return root_; }
  // Every directory under the root that looks like a model, sorted by name.
  Result<std::vector<std::string>> list_models() const;
  // The numeric version directories of a model, unsorted.
  Result<std::vector<int64_t>> list_versions(const std::string& model) const;

  std::string model_directory(const std::string& model) const { return root_ + "/" + model; }
  std::string config_path(const std::string& model) const { return model_directory(model) + "/" + kConfigFileName; }
  std::string model_file(const std::string& model, int64_t version, const std::string& file_name) const {
    return model_directory(model) + "/" + std::to_string(version) + "/" + file_name;
  }
  // Without default_model_filename: the version's model.plan when there is one, else model.onnx.
  std::string default_model_file(const std::string& model, int64_t version) const;
  bool has_config(const std::string& model) const;

 private:
  std::string root_;
};

}  // namespace kiln::serving
