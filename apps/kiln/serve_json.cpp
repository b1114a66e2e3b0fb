#include "serve_json.h"
#include "serve_json_writer.h"

#include <google/protobuf/util/json_util.h>
#include <openssl/evp.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <variant>

#include "kiln/float_types.h"
#include "serve_protocol.h"
#include "serving/datatype.h"

namespace kiln::cli::serve {
namespace {

using rapidjson::Value;
// Tensor rank and size limits for JSON requests; the body size limit bounds them anyway.
constexpr size_t kMaxRank = 32;
constexpr size_t kMaxNestingDepth = kMaxRank + 1;

Status flatten(const Value& value, std::vector<const Value*>& leaves, size_t depth) {
  if (depth > kMaxNestingDepth) return invalid_argument("'data' is nested deeper than any tensor kiln accepts");
  if (!value.IsArray()) {
    leaves.push_back(&value);
    return {};
  }
  for (const Value& element : value.GetArray()) KILN_RETURN_IF_ERROR(flatten(element, leaves, depth + 1));
  return {};
}

template <class T>
Status fill_integers(Tensor& tensor, const std::vector<const Value*>& leaves, const std::string& name) {
  T* out = tensor.data<T>();
  for (size_t i = 0; i < leaves.size(); ++i) {
    const Value& v = *leaves[i];
    bool fits = false;
    if constexpr (std::is_signed_v<T>) {
      fits = v.IsInt64() && v.GetInt64() >= std::numeric_limits<T>::min() && v.GetInt64() <= std::numeric_limits<T>::max();
      if (fits) out[i] = static_cast<T>(v.GetInt64());
    } else {
      fits = v.IsUint64() && v.GetUint64() <= std::numeric_limits<T>::max();
      if (fits) out[i] = static_cast<T>(v.GetUint64());
    }
    if (!fits) {
      return invalid_argument("input '" + name + "': element " + std::to_string(i) + " is not an integer in the range of " +
                              std::string(serving::wire_name(tensor.dtype())));
    }
  }
  return {};
}

template <class T>
Status fill_floats(Tensor& tensor, const std::vector<const Value*>& leaves, const std::string& name) {
  T* out = tensor.data<T>();
  for (size_t i = 0; i < leaves.size(); ++i) {
    if (!leaves[i]->IsNumber()) {
      return invalid_argument("input '" + name + "': element " + std::to_string(i) + " is not a number");
    }
    out[i] = T(static_cast<float>(leaves[i]->GetDouble()));
    if constexpr (std::is_same_v<T, double>) out[i] = leaves[i]->GetDouble();
  }
  return {};
}

Result<Tensor> decode_tensor(const std::string& name, DType dtype, Shape shape, const Value& data) {
  std::vector<const Value*> leaves;
  KILN_RETURN_IF_ERROR(flatten(data, leaves, 0));
  // Compare the element count without overflowing on absurd shapes.
  uint64_t expected = 1;
  for (int64_t d : shape.dims()) {
    if (d != 0 && expected > leaves.size() / static_cast<uint64_t>(d) + 1) {
      return invalid_argument("input '" + name + "': shape " + shape.to_string() + " does not match the " +
                              std::to_string(leaves.size()) + " elements in 'data'");
    }
    expected *= static_cast<uint64_t>(d);
  }
  if (expected != leaves.size()) {
    return invalid_argument("input '" + name + "': shape " + shape.to_string() + " needs " + std::to_string(expected) +
                            " elements but 'data' has " + std::to_string(leaves.size()));
  }
  if (dtype == DType::kBytes) {
    std::vector<std::string> values;
    for (size_t i = 0; i < leaves.size(); ++i) {
      if (!leaves[i]->IsString()) return invalid_argument("input '" + name + "': element " + std::to_string(i) + " is not a string");
      values.emplace_back(leaves[i]->GetString(), leaves[i]->GetStringLength());
    }
    return Tensor::from_strings(shape, std::move(values));
  }
  Tensor tensor(dtype, shape);
  Status status;
  switch (dtype) {
    case DType::kBool: {
      for (size_t i = 0; i < leaves.size(); ++i) {
        if (!leaves[i]->IsBool()) return invalid_argument("input '" + name + "': element " + std::to_string(i) + " is not a boolean");
        tensor.data<bool>()[i] = leaves[i]->GetBool();
      }
      break;
    }
    case DType::kUInt8: status = fill_integers<uint8_t>(tensor, leaves, name); break;
    case DType::kUInt16: status = fill_integers<uint16_t>(tensor, leaves, name); break;
    case DType::kUInt32: status = fill_integers<uint32_t>(tensor, leaves, name); break;
    case DType::kUInt64: status = fill_integers<uint64_t>(tensor, leaves, name); break;
    case DType::kInt8: status = fill_integers<int8_t>(tensor, leaves, name); break;
    case DType::kInt16: status = fill_integers<int16_t>(tensor, leaves, name); break;
    case DType::kInt32: status = fill_integers<int32_t>(tensor, leaves, name); break;
    case DType::kInt64: status = fill_integers<int64_t>(tensor, leaves, name); break;
    case DType::kFloat16: status = fill_floats<Float16>(tensor, leaves, name); break;
    case DType::kBFloat16: status = fill_floats<BFloat16>(tensor, leaves, name); break;
    case DType::kFloat32: status = fill_floats<float>(tensor, leaves, name); break;
    case DType::kFloat64: status = fill_floats<double>(tensor, leaves, name); break;
    default: return unimplemented("input '" + name + "': datatype is not supported over JSON");
  }
  KILN_RETURN_IF_ERROR(status);
  return tensor;
}

void write_tensor_data(JsonWriter& w, const Tensor& t) {
  w.StartArray();
  const int64_t n = t.numel();
  for (int64_t i = 0; i < n; ++i) write_json_element(w, t, i);
  w.EndArray();
}

void write_shape(JsonWriter& w, const std::vector<int64_t>& dims) {
  w.Key("shape");
  w.StartArray();
  for (int64_t d : dims) w.Int64(d);
  w.EndArray();
}

Result<rapidjson::Document> parse_body(std::string_view body) {
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError()) {
    return invalid_argument("malformed JSON at offset " + std::to_string(doc.GetErrorOffset()) + ": " +
                            rapidjson::GetParseError_En(doc.GetParseError()));
  }
  return doc;
}

// A "parameters" object's scalar members as protocol values (others are ignored, as the protocol allows).
std::map<std::string, ParameterValue> json_parameters(const Value& owner) {
  std::map<std::string, ParameterValue> out;
  auto params = owner.FindMember("parameters");
  if (params == owner.MemberEnd() || !params->value.IsObject()) return out;
  for (const auto& p : params->value.GetObject()) {
    const std::string key(p.name.GetString(), p.name.GetStringLength());
    if (p.value.IsBool()) out[key] = p.value.GetBool();
    else if (p.value.IsUint64()) out[key] = p.value.GetUint64();
    else if (p.value.IsInt64()) out[key] = p.value.GetInt64();
    else if (p.value.IsNumber()) out[key] = p.value.GetDouble();
    else if (p.value.IsString()) out[key] = std::string(p.value.GetString(), p.value.GetStringLength());
  }
  return out;
}

}  // namespace

Status decode_infer_request(const InferBody& body, const serving::SharedMemoryRegistry& shared_memory,
                            serving::InferenceRequest& request, bool& binary_outputs_by_default) {
  binary_outputs_by_default = false;
  KILN_ASSIGN_OR_RETURN(rapidjson::Document parsed, parse_body(body.bytes.substr(0, body.json_length)));
  const Value& doc = parsed;  // const: rapidjson's mutable iterators compare ambiguously in C++20
  size_t binary_offset = body.json_length;
  if (!doc.IsObject()) return invalid_argument("the infer request must be a JSON object");
  if (auto id = doc.FindMember("id"); id != doc.MemberEnd()) {
    if (!id->value.IsString()) return invalid_argument("'id' must be a string");
    request.id = id->value.GetString();
  }
  for (const auto& [key, value] : json_parameters(doc)) {
    if (key == "binary_data_output" && std::holds_alternative<bool>(value)) binary_outputs_by_default = std::get<bool>(value);
    KILN_RETURN_IF_ERROR(apply_request_parameter(key, value, request));
  }
  auto inputs = doc.FindMember("inputs");
  if (inputs == doc.MemberEnd() || !inputs->value.IsArray()) return invalid_argument("'inputs' must be an array");
  for (const Value& input : inputs->value.GetArray()) {
    if (!input.IsObject()) return invalid_argument("each element of 'inputs' must be an object");
    auto name = input.FindMember("name");
    if (name == input.MemberEnd() || !name->value.IsString()) return invalid_argument("an input has no string 'name'");
    const std::string input_name = name->value.GetString();
    auto datatype = input.FindMember("datatype");
    if (datatype == input.MemberEnd() || !datatype->value.IsString()) {
      return invalid_argument("input '" + input_name + "' has no string 'datatype'");
    }
    const std::optional<DType> dtype = serving::dtype_from_wire_name(datatype->value.GetString());
    if (!dtype) {
      return invalid_argument("input '" + input_name + "': unknown datatype '" + std::string(datatype->value.GetString()) +
                              "' (expected BOOL, UINT8..UINT64, INT8..INT64, FP16, FP32, FP64, BF16 or BYTES)");
    }
    auto shape = input.FindMember("shape");
    if (shape == input.MemberEnd() || !shape->value.IsArray() || shape->value.Size() > kMaxRank) {
      return invalid_argument("input '" + input_name + "': 'shape' must be an array of at most " + std::to_string(kMaxRank) +
                              " sizes");
    }
    std::vector<int64_t> dims;
    for (const Value& d : shape->value.GetArray()) {
      if (!d.IsInt64() || d.GetInt64() < 0) return invalid_argument("input '" + input_name + "': 'shape' has a size that is not a non-negative integer");
      dims.push_back(d.GetInt64());
    }
    KILN_ASSIGN_OR_RETURN(std::optional<serving::SharedMemorySpan> span,
                          shared_memory_span("input '" + input_name + "'", json_parameters(input), shared_memory));
    if (span) {
      if (input.HasMember("data")) return invalid_argument("input '" + input_name + "' has both 'data' and shared memory parameters");
      KILN_ASSIGN_OR_RETURN(Tensor tensor, serving::shared_memory_tensor(input_name, *dtype, Shape(dims), *span));
      request.inputs.push_back({input_name, std::move(tensor)});
      continue;
    }
    if (auto params = input.FindMember("parameters"); params != input.MemberEnd() && params->value.IsObject() &&
                                                     params->value.HasMember("binary_data_size")) {
      const Value& size = params->value["binary_data_size"];
      if (!size.IsUint64()) return invalid_argument("input '" + input_name + "': binary_data_size must be a non-negative integer");
      if (input.HasMember("data")) return invalid_argument("input '" + input_name + "' has both 'data' and binary_data_size");
      KILN_ASSIGN_OR_RETURN(Tensor tensor, decode_binary_tensor(input_name, *dtype, Shape(dims), body, binary_offset, size.GetUint64()));
      binary_offset += static_cast<size_t>(size.GetUint64());
      request.inputs.push_back({input_name, std::move(tensor)});
      continue;
    }
    auto data = input.FindMember("data");
    if (data == input.MemberEnd()) return invalid_argument("input '" + input_name + "' has no 'data'");
    KILN_ASSIGN_OR_RETURN(Tensor tensor, decode_tensor(input_name, *dtype, Shape(dims), data->value));
    request.inputs.push_back({input_name, std::move(tensor)});
  }
  if (auto outputs = doc.FindMember("outputs"); outputs != doc.MemberEnd()) {
    if (!outputs->value.IsArray()) return invalid_argument("'outputs' must be an array");
    for (const Value& output : outputs->value.GetArray()) {
      if (!output.IsObject() || !output.HasMember("name") || !output["name"].IsString()) {
        return invalid_argument("each element of 'outputs' must be an object with a string 'name'");
      }
      bool binary = binary_outputs_by_default;
      if (auto params = output.FindMember("parameters"); params != output.MemberEnd() && params->value.IsObject()) {
        if (auto flag = params->value.FindMember("binary_data"); flag != params->value.MemberEnd()) {
          if (!flag->value.IsBool()) return invalid_argument("output '" + std::string(output["name"].GetString()) + "': binary_data must be a boolean");
          binary = flag->value.GetBool();
        }
      }
      const std::string output_name = output["name"].GetString();
      KILN_ASSIGN_OR_RETURN(std::optional<serving::SharedMemorySpan> span,
                            shared_memory_span("output '" + output_name + "'", json_parameters(output), shared_memory));
      request.outputs.push_back({output_name, binary, std::move(span)});
    }
  }
  if (binary_offset != body.bytes.size()) {
    return invalid_argument(std::to_string(body.bytes.size() - binary_offset) +
                            " bytes of binary data follow the JSON header but no input claims them (check binary_data_size)");
  }
  return {};
}

EncodedInferResponse encode_infer_response(const serving::InferenceResponse& response, bool binary_by_default) {
  auto is_binary = [&](const std::string& name) {
    const serving::RequestedOutput* r = response.requested_for(name);
    return r != nullptr ? r->binary : binary_by_default;
  };
  std::string binary;
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  write_json_string(w, "model_name", response.model_name);
  write_json_string(w, "model_version", response.model_version);
  if (!response.id.empty()) write_json_string(w, "id", response.id);
  w.Key("outputs");
  w.StartArray();
  for (const serving::NamedTensor& output : response.outputs) {
    w.StartObject();
    write_json_string(w, "name", output.name);
    write_json_string(w, "datatype", std::string(serving::wire_name(output.tensor.dtype())));
    write_shape(w, output.tensor.shape().dims());
    const serving::RequestedOutput* requested = response.requested_for(output.name);
    if (requested != nullptr && requested->shared_memory) {
      // The server copied the bytes into the client's region (InferenceServer::infer): say where.
      const serving::SharedMemoryRef& ref = requested->shared_memory->ref;
      w.Key("parameters");
      w.StartObject();
      write_json_string(w, "shared_memory_region", ref.region);
      w.Key("shared_memory_byte_size");
      w.Uint64(output.tensor.nbytes());
      if (ref.offset != 0) {
        w.Key("shared_memory_offset");
        w.Uint64(ref.offset);
      }
      w.EndObject();
    } else if (is_binary(output.name)) {
      w.Key("parameters");
      w.StartObject();
      w.Key("binary_data_size");
      w.Uint64(append_binary_tensor(output.tensor, binary));
      w.EndObject();
    } else {
      w.Key("data");
      write_tensor_data(w, output.tensor);
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  EncodedInferResponse encoded;
  encoded.body = buffer.GetString();
  encoded.json_length = encoded.body.size();
  encoded.body += binary;
  return encoded;
}

std::string encode_error(const std::string& message) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  write_json_string(w, "error", message);
  w.EndObject();
  return buffer.GetString();
}

std::string encode_server_metadata(const std::string& version) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  write_json_string(w, "name", kServerName);
  write_json_string(w, "version", version);
  w.Key("extensions");
  w.StartArray();
  for (const char* extension : kServerExtensions) w.String(extension);
  w.EndArray();
  w.EndObject();
  return buffer.GetString();
}

std::string encode_model_metadata(const serving::ModelMetadata& metadata) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  write_json_string(w, "name", metadata.name);
  w.Key("versions");
  w.StartArray();
  for (const std::string& v : metadata.versions) w.String(v.c_str());
  w.EndArray();
  write_json_string(w, "platform", metadata.platform);
  for (const auto& [key, tensors] : {std::pair{"inputs", &metadata.inputs}, std::pair{"outputs", &metadata.outputs}}) {
    w.Key(key);
    w.StartArray();
    for (const serving::TensorMetadata& t : *tensors) {
      w.StartObject();
      write_json_string(w, "name", t.name);
      write_json_string(w, "datatype", t.datatype);
      write_shape(w, t.shape);
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
  return buffer.GetString();
}

Result<std::string> encode_model_config(const serving::ModelConfig& config) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  if (!google::protobuf::util::MessageToJsonString(config, &json, options).ok()) {
    return internal_error("cannot encode the configuration of model '" + config.name() + "' as JSON");
  }
  return json;
}

std::string encode_repository_index(const std::vector<serving::RepositoryEntry>& entries) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartArray();
  for (const serving::RepositoryEntry& e : entries) {
    w.StartObject();
    write_json_string(w, "name", e.name);
    if (!e.version.empty()) write_json_string(w, "version", e.version);
    if (!e.state.empty()) write_json_string(w, "state", e.state);
    if (!e.reason.empty()) write_json_string(w, "reason", e.reason);
    w.EndObject();
  }
  w.EndArray();
  return buffer.GetString();
}

std::string encode_statistics(const std::vector<serving::VersionStatistics>& stats) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  auto duration = [&w](const char* key, const serving::DurationStat& d) {
    w.Key(key);
    w.StartObject();
    w.Key("count");
    w.Uint64(d.count);
    w.Key("ns");
    w.Uint64(d.ns);
    w.EndObject();
  };
  w.StartObject();
  w.Key("model_stats");
  w.StartArray();
  for (const serving::VersionStatistics& s : stats) {
    w.StartObject();
    write_json_string(w, "name", s.name);
    write_json_string(w, "version", s.version);
    w.Key("last_inference");
    w.Uint64(s.stats.last_inference_ms);
    w.Key("inference_count");
    w.Uint64(s.stats.inference_count);
    w.Key("execution_count");
    w.Uint64(s.stats.execution_count);
    w.Key("inference_stats");
    w.StartObject();
    duration("success", s.stats.success);
    duration("fail", s.stats.fail);
    duration("queue", s.stats.queue);
    duration("compute_input", s.stats.compute_input);
    duration("compute_infer", s.stats.compute_infer);
    duration("compute_output", s.stats.compute_output);
    w.EndObject();
    w.Key("batch_stats");
    w.StartArray();
    for (const auto& [size, batch] : s.stats.batch_stats) {
      w.StartObject();
      w.Key("batch_size");
      w.Uint64(size);
      duration("compute_input", batch.compute_input);
      duration("compute_infer", batch.compute_infer);
      duration("compute_output", batch.compute_output);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return buffer.GetString();
}

Result<Tensor> decode_json_tensor(const std::string& name, DType dtype, const Shape& shape, const rapidjson::Value& data) {
  return decode_tensor(name, dtype, shape, data);
}

Result<bool> decode_index_ready_flag(std::string_view body) {
  if (body.empty()) return false;
  KILN_ASSIGN_OR_RETURN(rapidjson::Document parsed, parse_body(body));
  const Value& doc = parsed;
  if (!doc.IsObject()) return invalid_argument("the repository index request must be a JSON object");
  auto ready = doc.FindMember("ready");
  if (ready == doc.MemberEnd()) return false;
  if (!ready->value.IsBool()) return invalid_argument("'ready' must be a boolean");
  return ready->value.GetBool();
}

Result<serving::SharedMemoryRegionStatus> decode_shared_memory_register(std::string_view body) {
  KILN_ASSIGN_OR_RETURN(rapidjson::Document parsed, parse_body(body));
  const Value& doc = parsed;
  if (!doc.IsObject()) return invalid_argument("the shared memory register request must be a JSON object");
  serving::SharedMemoryRegionStatus region;
  auto key = doc.FindMember("key");
  if (key == doc.MemberEnd() || !key->value.IsString()) return invalid_argument("the register request needs a string 'key'");
  region.key = std::string(key->value.GetString(), key->value.GetStringLength());
  auto size = doc.FindMember("byte_size");
  if (size == doc.MemberEnd() || !size->value.IsUint64()) return invalid_argument("the register request needs a non-negative integer 'byte_size'");
  region.byte_size = size->value.GetUint64();
  if (auto offset = doc.FindMember("offset"); offset != doc.MemberEnd()) {
    if (!offset->value.IsUint64()) return invalid_argument("'offset' must be a non-negative integer");
    region.offset = offset->value.GetUint64();
  }
  return region;
}

Result<CudaRegisterRequest> decode_cuda_shared_memory_register(std::string_view body) {
  KILN_ASSIGN_OR_RETURN(rapidjson::Document parsed, parse_body(body));
  const Value& doc = parsed;
  if (!doc.IsObject()) return invalid_argument("the CUDA shared memory register request must be a JSON object");
  CudaRegisterRequest request;
  auto handle = doc.FindMember("raw_handle");
  if (handle == doc.MemberEnd() || !handle->value.IsObject()) return invalid_argument("the register request needs 'raw_handle': {\"b64\": ...}");
  auto b64 = handle->value.FindMember("b64");
  if (b64 == handle->value.MemberEnd() || !b64->value.IsString()) return invalid_argument("'raw_handle' needs a base64 string 'b64'");
  const std::string_view text(b64->value.GetString(), b64->value.GetStringLength());
  if (text.empty() || text.size() % 4 != 0) return invalid_argument("'raw_handle.b64' is not base64 (its length is not a multiple of 4)");
  std::string decoded(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(decoded.data()), reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  const size_t padding = (text.back() == '=' ? 1 : 0) + (text.size() > 1 && text[text.size() - 2] == '=' ? 1 : 0);
  if (n < 0 || static_cast<size_t>(n) < padding) return invalid_argument("'raw_handle.b64' is not base64");
  decoded.resize(static_cast<size_t>(n) - padding);
  request.raw_handle = std::move(decoded);
  auto device = doc.FindMember("device_id");
  if (device == doc.MemberEnd() || !device->value.IsInt64() || device->value.GetInt64() < 0)
    return invalid_argument("the register request needs a non-negative integer 'device_id'");
  request.device_id = device->value.GetInt64();
  auto size = doc.FindMember("byte_size");
  if (size == doc.MemberEnd() || !size->value.IsUint64()) return invalid_argument("the register request needs a non-negative integer 'byte_size'");
  request.byte_size = size->value.GetUint64();
  return request;
}

std::string encode_cuda_shared_memory_status(const std::vector<serving::CudaSharedMemoryRegionStatus>& regions) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartArray();
  for (const serving::CudaSharedMemoryRegionStatus& region : regions) {
    w.StartObject();
    write_json_string(w, "name", region.name);
    w.Key("device_id");
    w.Int64(region.device_id);
    w.Key("byte_size");
    w.Uint64(region.byte_size);
    w.EndObject();
  }
  w.EndArray();
  return buffer.GetString();
}

std::string encode_shared_memory_status(const std::vector<serving::SharedMemoryRegionStatus>& regions) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartArray();
  for (const serving::SharedMemoryRegionStatus& region : regions) {
    w.StartObject();
    write_json_string(w, "name", region.name);
    write_json_string(w, "key", region.key);
    w.Key("offset");
    w.Uint64(region.offset);
    w.Key("byte_size");
    w.Uint64(region.byte_size);
    w.EndObject();
  }
  w.EndArray();
  return buffer.GetString();
}

}  // namespace kiln::cli::serve
