#include "serving/model_config_loader.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <fstream>
#include <set>
#include <sstream>

#include "kiln/shape.h"
#include "serving/datatype.h"

namespace kiln::serving {
namespace {

// Collects the first parse error as "path:LINE:COL: message" (1-based, as editors count).
class FirstErrorCollector : public google::protobuf::io::ErrorCollector {
 public:
  explicit FirstErrorCollector(std::string display_path) : display_path_(std::move(display_path)) {}

  void AddError(int line, google::protobuf::io::ColumnNumber column, const std::string& message) override {
    if (!first_error_.empty()) return;
    first_error_ = display_path_ + ":" + std::to_string(line + 1) + ":" + std::to_string(column + 1) + ": " + message;
  }
  void AddWarning(int, google::protobuf::io::ColumnNumber, const std::string&) override {}

  const std::string& first_error() const { return first_error_; }

 private:
  std::string display_path_;
  std::string first_error_;
};

// Platforms and backends Triton uses for ONNX models; kiln serves exactly those.
const std::set<std::string> kOnnxPlatforms = {"onnxruntime_onnx"};
const std::set<std::string> kOnnxBackends = {"onnxruntime", "kiln"};
constexpr const char* kDefaultPlatform = "onnxruntime_onnx";

Status field_error(const std::string& display_path, const std::string& field, const std::string& message) {
  return invalid_argument(display_path + ": " + field + ": " + message);
}

std::string dims_text(const google::protobuf::RepeatedField<int64_t>& dims) {
  std::string text = "[";
  for (int i = 0; i < dims.size(); ++i) text += (i ? "," : "") + std::to_string(dims[i]);
  return text + "]";
}

// The model's per-request dims: without the batch dimension when the config batches.
Result<std::vector<int64_t>> model_dims_for_config(const TensorInfo& info, int max_batch_size,
                                                   const std::string& display_path, const std::string& field) {
  if (!info.rank_known) return std::vector<int64_t>{};
  std::vector<int64_t> dims = info.dims;
  if (max_batch_size > 0) {
    if (dims.empty()) {
      return field_error(display_path, field,
                         "max_batch_size " + std::to_string(max_batch_size) + " needs a batch dimension, but model tensor '" +
                             info.name + "' is a scalar");
    }
    dims.erase(dims.begin());
  }
  return dims;
}

Status check_dims(const google::protobuf::RepeatedField<int64_t>& config_dims, const std::vector<int64_t>& model_dims,
                  const std::string& display_path, const std::string& field) {
  if (static_cast<size_t>(config_dims.size()) != model_dims.size()) {
    return field_error(display_path, field + ".dims",
                       dims_text(config_dims) + " has rank " + std::to_string(config_dims.size()) + " but the model has rank " +
                           std::to_string(model_dims.size()) + " (without the batch dimension when max_batch_size > 0)");
  }
  for (size_t i = 0; i < model_dims.size(); ++i) {
    const int64_t c = config_dims[static_cast<int>(i)];
    const int64_t m = model_dims[i];
    if (c < kDynamicDim || c == 0) {
      return field_error(display_path, field + ".dims", "dimension " + std::to_string(i) + " is " + std::to_string(c) +
                                                            "; expected a positive size or -1");
    }
    if (c != kDynamicDim && m != kDynamicDim && c != m) {
      return field_error(display_path, field + ".dims",
                         dims_text(config_dims) + " does not match the model: dimension " + std::to_string(i) + " is " +
                             std::to_string(m) + " in the model");
    }
  }
  return {};
}

template <class ConfigTensor>
Status check_data_type(const ConfigTensor& tensor, const TensorInfo& info, const std::string& display_path,
                       const std::string& field) {
  const std::optional<DType> dtype = dtype_from_config_type(tensor.data_type());
  if (!dtype) {
    return field_error(display_path, field + ".data_type", "'" + DataType_Name(tensor.data_type()) + "' is not supported");
  }
  if (*dtype != info.dtype) {
    return field_error(display_path, field + ".data_type",
                       DataType_Name(tensor.data_type()) + " does not match the model's " + std::string(dtype_name(info.dtype)));
  }
  return {};
}

const TensorInfo* find_tensor(const std::vector<TensorInfo>& infos, const std::string& name) {
  for (const TensorInfo& info : infos) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

template <class ConfigTensor>
void fill_from_model(ConfigTensor& tensor, const TensorInfo& info, const std::vector<int64_t>& dims) {
  tensor.set_name(info.name);
  tensor.set_data_type(config_type_from_dtype(info.dtype));
  for (int64_t d : dims) tensor.add_dims(d);
}

}  // namespace

Result<ModelConfig> parse_model_config(const std::string& text, const std::string& display_path,
                                       ConfigLocations* locations) {
  ModelConfig config;
  FirstErrorCollector errors(display_path);
  google::protobuf::TextFormat::Parser parser;
  google::protobuf::TextFormat::ParseInfoTree tree;
  parser.RecordErrorsTo(&errors);
  parser.WriteLocationsTo(&tree);
  if (!parser.ParseFromString(text, &config)) {
    std::string message = errors.first_error();
    if (message.empty()) message = display_path + ": not a valid model configuration";
    return invalid_argument(message);
  }
  if (locations) *locations = ConfigLocations(tree, config, text);
  return config;
}

Result<ModelConfig> read_model_config(const std::string& path, const std::string& display_path,
                                      ConfigLocations* locations) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return not_found(display_path + ": cannot open the model configuration");
  std::ostringstream text;
  text << file.rdbuf();
  return parse_model_config(text.str(), display_path, locations);
}

Status validate_model_config(ModelConfig& config, const std::string& directory_name, const std::string& display_path) {
  if (config.name().empty()) config.set_name(directory_name);
  if (config.name() != directory_name) {
    return field_error(display_path, "name",
                       "'" + config.name() + "' does not match the model directory '" + directory_name + "'");
  }
  if (config.platform().empty() && config.backend().empty()) config.set_platform(kDefaultPlatform);
  if (!config.platform().empty() && !kOnnxPlatforms.contains(config.platform())) {
    return field_error(display_path, "platform", "'" + config.platform() + "' is not supported; kiln serves ONNX models (" +
                                                     kDefaultPlatform + ")");
  }
  if (!config.backend().empty() && !kOnnxBackends.contains(config.backend())) {
    return field_error(display_path, "backend",
                       "'" + config.backend() + "' is not supported; kiln serves ONNX models (onnxruntime)");
  }
  if (config.max_batch_size() < 0) {
    return field_error(display_path, "max_batch_size", std::to_string(config.max_batch_size()) + " is negative");
  }
  if (config.has_dynamic_batching()) {
    const ModelDynamicBatching& batching = config.dynamic_batching();
    for (int size : batching.preferred_batch_size()) {
      if (size <= 0 || (config.max_batch_size() > 0 && size > config.max_batch_size())) {
        return field_error(display_path, "dynamic_batching.preferred_batch_size",
                           std::to_string(size) + " must be between 1 and max_batch_size " +
                               std::to_string(config.max_batch_size()));
      }
    }
    if (batching.priority_levels() > 0 &&
        (batching.default_priority_level() < 1 || batching.default_priority_level() > batching.priority_levels())) {
      return field_error(display_path, "dynamic_batching.default_priority_level",
                         std::to_string(batching.default_priority_level()) + " must be between 1 and priority_levels " +
                             std::to_string(batching.priority_levels()));
    }
  }
  if (config.instance_group().empty()) {
    ModelInstanceGroup* group = config.add_instance_group();
    group->set_count(1);
    group->set_kind(ModelInstanceGroup::KIND_AUTO);
  }
  for (int i = 0; i < config.instance_group_size(); ++i) {
    ModelInstanceGroup& group = *config.mutable_instance_group(i);
    const std::string field = "instance_group[" + std::to_string(i) + "]";
    if (group.count() < 0) return field_error(display_path, field + ".count", std::to_string(group.count()) + " is negative");
    if (group.count() == 0) group.set_count(1);
    if (group.name().empty()) group.set_name(config.name() + "_" + std::to_string(i));
  }
  if (config.version_policy().policy_choice_case() == ModelVersionPolicy::POLICY_CHOICE_NOT_SET) {
    config.mutable_version_policy()->mutable_latest()->set_num_versions(1);
  }
  if (config.version_policy().has_latest() && config.version_policy().latest().num_versions() == 0) {
    return field_error(display_path, "version_policy.latest.num_versions", "must be at least 1");
  }
  return {};
}

Status complete_model_config(ModelConfig& config, const Session& session, const std::string& display_path,
                             DType float32_interface) {
  const int max_batch = config.max_batch_size();
  // The tensor as the engine will take or give it.
  const auto engine_view = [float32_interface](const TensorInfo& model) {
    TensorInfo t = model;
    if (t.dtype == DType::kFloat32) t.dtype = float32_interface;
    return t;
  };
  std::set<std::string> listed;
  for (int i = 0; i < config.input_size(); ++i) {
    ModelInput& input = *config.mutable_input(i);
    const std::string field = "input '" + input.name() + "'";
    const TensorInfo* info = find_tensor(session.inputs(), input.name());
    if (!info) return field_error(display_path, field, "the model has no input of that name");
    if (!listed.insert(input.name()).second) return field_error(display_path, field, "is listed twice");
    KILN_RETURN_IF_ERROR(check_data_type(input, engine_view(*info), display_path, field));
    if (input.has_reshape()) continue;  // dims describe the request; the reshape target is the model's view
    KILN_ASSIGN_OR_RETURN(std::vector<int64_t> dims, model_dims_for_config(*info, max_batch, display_path, field));
    if (info->rank_known) KILN_RETURN_IF_ERROR(check_dims(input.dims(), dims, display_path, field));
  }
  for (const TensorInfo& info : session.inputs()) {
    if (listed.contains(info.name) || info.has_default) continue;
    KILN_ASSIGN_OR_RETURN(std::vector<int64_t> dims,
                          model_dims_for_config(info, max_batch, display_path, "input '" + info.name + "'"));
    fill_from_model(*config.add_input(), engine_view(info), dims);
  }
  listed.clear();
  for (int i = 0; i < config.output_size(); ++i) {
    ModelOutput& output = *config.mutable_output(i);
    const std::string field = "output '" + output.name() + "'";
    const TensorInfo* info = find_tensor(session.outputs(), output.name());
    if (!info) return field_error(display_path, field, "the model has no output of that name");
    if (!listed.insert(output.name()).second) return field_error(display_path, field, "is listed twice");
    KILN_RETURN_IF_ERROR(check_data_type(output, engine_view(*info), display_path, field));
    if (output.has_reshape()) continue;
    KILN_ASSIGN_OR_RETURN(std::vector<int64_t> dims, model_dims_for_config(*info, max_batch, display_path, field));
    if (info->rank_known) KILN_RETURN_IF_ERROR(check_dims(output.dims(), dims, display_path, field));
  }
  for (const TensorInfo& info : session.outputs()) {
    if (listed.contains(info.name)) continue;
    KILN_ASSIGN_OR_RETURN(std::vector<int64_t> dims,
                          model_dims_for_config(info, max_batch, display_path, "output '" + info.name + "'"));
    fill_from_model(*config.add_output(), engine_view(info), dims);
  }
  return {};
}

}  // namespace kiln::serving
