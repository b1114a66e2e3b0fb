#include "serving/model_warmup.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "core/dtype_dispatch.h"
#include "kiln/float_types.h"
#include "serving/datatype.h"

namespace kiln::serving {
namespace {

constexpr const char* kWarmupDirectory = "warmup";
constexpr uint32_t kRandomSeed = 0x6b696c6e;  // fixed: a warmup behaves the same on every load

template <class T>
void fill_random(Tensor& tensor, std::mt19937& rng) {
  T* data = static_cast<T*>(tensor.raw_data());
  const int64_t n = tensor.numel();
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
    std::uniform_real_distribution<T> dist(0, 1);
    for (int64_t i = 0; i < n; ++i) data[i] = dist(rng);
  } else if constexpr (kIsNarrowFloat<T>) {
    std::uniform_real_distribution<float> dist(0, 1);
    for (int64_t i = 0; i < n; ++i) data[i] = T(dist(rng));
  } else if constexpr (std::is_same_v<T, bool>) {
    for (int64_t i = 0; i < n; ++i) data[i] = (rng() & 1) != 0;
  } else {
    // Small non-negative integers: valid indices and ids for the models that take them.
    for (int64_t i = 0; i < n; ++i) data[i] = static_cast<T>(rng() % 2);
  }
}

Status fill_random_data(Tensor& tensor, std::mt19937& rng) {
  if (visit_dtype(tensor.dtype(), [&](auto tag) { fill_random<decltype(tag)>(tensor, rng); })) return {};
  return unimplemented("random_data is not available for " + std::string(dtype_name(tensor.dtype())));
}

// Triton's input_data_file holds one sample (repeated over the batch) or the whole batch, raw.
Status fill_from_file(Tensor& tensor, const std::string& path, int64_t batch) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return not_found("cannot read '" + path + "'");
  std::ostringstream buffer;
  buffer << file.rdbuf();
  const std::string bytes = buffer.str();
  const size_t sample = tensor.nbytes() / static_cast<size_t>(std::max<int64_t>(batch, 1));
  if (bytes.size() != tensor.nbytes() && bytes.size() != sample) {
    return invalid_argument("'" + path + "' has " + std::to_string(bytes.size()) + " bytes; expected " +
                            std::to_string(sample) + " (one sample) or " + std::to_string(tensor.nbytes()) + " (the batch)");
  }
  auto* out = static_cast<uint8_t*>(tensor.raw_data());
  for (size_t at = 0; at < tensor.nbytes(); at += bytes.size()) std::memcpy(out + at, bytes.data(), bytes.size());
  return {};
}

std::string key_path(const std::string& field, const std::string& key) { return field + "[\"" + key + "\"]"; }

Result<std::map<std::string, Tensor>> warmup_inputs(const ModelConfig& config, const ModelWarmup& warmup, const std::string& field,
                                                    const std::string& model_directory, const ConfigLocations& locations,
                                                    const std::string& display_path, std::mt19937& rng) {
  auto error = [&](const std::string& at, const std::string& message) {
    return invalid_argument(locations.error(display_path, at, message));
  };
  const int max_batch = config.max_batch_size();
  const int64_t batch = warmup.batch_size();
  if (batch < 1 || batch > std::max(max_batch, 1)) {
    return error(field + ".batch_size", std::to_string(batch) + " must be between 1 and " +
                                            (max_batch > 0 ? "max_batch_size " + std::to_string(max_batch)
                                                           : std::string("1 (the model does not batch)")));
  }
  std::map<std::string, Tensor> inputs;
  for (const auto& entry : warmup.inputs()) {
    const std::string& name = entry.first;  // not a binding: clang before 16 cannot capture one
    const auto& input = entry.second;
    const std::string at = key_path(field + ".inputs", name);
    auto it = std::find_if(config.input().begin(), config.input().end(), [&](const ModelInput& c) { return c.name() == name; });
    if (it == config.input().end()) return error(at, "the model has no input '" + name + "'");
    if (input.data_type() != it->data_type()) {
      return error(at, DataType_Name(input.data_type()) + " does not match the input's " + DataType_Name(it->data_type()));
    }
    const std::optional<DType> dtype = dtype_from_config_type(input.data_type());
    if (!dtype || dtype_size(*dtype) == 0) return error(at, DataType_Name(input.data_type()) + " is not supported for warmup");
    std::vector<int64_t> dims(input.dims().begin(), input.dims().end());
    bool fits = dims.size() == static_cast<size_t>(it->dims_size());
    for (size_t d = 0; fits && d < dims.size(); ++d) fits = dims[d] > 0 && (it->dims(static_cast<int>(d)) < 0 || it->dims(static_cast<int>(d)) == dims[d]);
    if (!fits) return error(at, "dims do not fit the input's dims (every size concrete, without the batch dimension)");
    if (it->has_reshape()) dims.assign(it->reshape().shape().begin(), it->reshape().shape().end());
    if (max_batch > 0) dims.insert(dims.begin(), batch);
    Tensor tensor(*dtype, Shape(dims));  // zeroed: zero_data needs nothing more
    switch (input.input_data_type_case()) {
      case ModelWarmup::Input::kZeroData:
        break;
      case ModelWarmup::Input::kRandomData:
        if (Status filled = fill_random_data(tensor, rng); !filled.ok()) return error(at, filled.message());
        break;
      case ModelWarmup::Input::kInputDataFile: {
        const std::string path = (std::filesystem::path(model_directory) / kWarmupDirectory / input.input_data_file()).string();
        if (Status filled = fill_from_file(tensor, path, max_batch > 0 ? batch : 1); !filled.ok()) return error(at, filled.message());
        break;
      }
      default:
        return error(at, "needs zero_data, random_data or input_data_file");
    }
    inputs.emplace(name, std::move(tensor));
  }
  for (const ModelInput& c : config.input()) {
    if (!c.optional() && !inputs.contains(c.name())) return error(field + ".inputs", "input '" + c.name() + "' is missing");
  }
  return inputs;
}

}  // namespace

Status run_model_warmup(const ModelConfig& config, const Session& session, const std::string& model_directory,
                        const ConfigLocations& locations, const std::string& display_path) {
  std::mt19937 rng(kRandomSeed);
  for (int i = 0; i < config.model_warmup_size(); ++i) {
    const ModelWarmup& warmup = config.model_warmup(i);
    const std::string field = "model_warmup[" + std::to_string(i) + "]";
    KILN_ASSIGN_OR_RETURN(auto inputs, warmup_inputs(config, warmup, field, model_directory, locations, display_path, rng));
    const uint32_t runs = std::max<uint32_t>(warmup.count(), 1);
    for (uint32_t run = 0; run < runs; ++run) {
      Result<std::vector<Tensor>> outputs = session.run(inputs);
      if (!outputs.ok()) {
        return invalid_argument(locations.error(display_path, field, "warmup '" + warmup.name() + "' failed: " + outputs.status().message()));
      }
    }
  }
  return {};
}

}  // namespace kiln::serving
