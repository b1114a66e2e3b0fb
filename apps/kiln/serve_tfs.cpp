#include "serve_tfs.h"
#include "serve_json_writer.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <optional>

#include "kiln/float_types.h"
#include "serve_json.h"
#include "serving/datatype.h"

namespace kiln::cli::serve {
namespace {

using rapidjson::Value;
constexpr size_t kMaxRank = 32;
constexpr const char* kPredictSuffix = ":predict";
constexpr const char* kDefaultSignature = "serving_default";
constexpr const char* kPredictMethod = "tensorflow/serving/predict";

// TensorFlow's DataType names for the KServe wire names.
std::string tf_dtype_name(const std::string& wire) {
  static const std::pair<const char*, const char*> kNames[] = {
      {"BOOL", "DT_BOOL"},     {"UINT8", "DT_UINT8"},   {"UINT16", "DT_UINT16"}, {"UINT32", "DT_UINT32"},
      {"UINT64", "DT_UINT64"}, {"INT8", "DT_INT8"},     {"INT16", "DT_INT16"},   {"INT32", "DT_INT32"},
      {"INT64", "DT_INT64"},   {"FP16", "DT_HALF"},     {"FP32", "DT_FLOAT"},    {"FP64", "DT_DOUBLE"},
      {"BF16", "DT_BFLOAT16"}, {"BYTES", "DT_STRING"},
  };
  for (const auto& [kserve, tf] : kNames) {
    if (wire == kserve) return tf;
  }
  return "DT_INVALID";
}

// The dims of a rectangular nested JSON array; an error when it is ragged or too deep.
Status shape_of(const Value& value, size_t depth, std::vector<int64_t>& dims, const std::string& name) {
  if (depth > kMaxRank) return invalid_argument("input '" + name + "' is nested deeper than any tensor kiln accepts");
  if (depth == dims.size()) {
    if (!value.IsArray()) return {};
    dims.push_back(value.Size());
  }
  if (depth < dims.size() && (!value.IsArray() || value.Size() != static_cast<rapidjson::SizeType>(dims[depth]))) {
    return invalid_argument("input '" + name + "' is ragged: dimension " + std::to_string(depth) + " has " +
                            (value.IsArray() ? std::to_string(value.Size()) : std::string("a scalar")) + " where " +
                            std::to_string(dims[depth]) + " elements were expected");
  }
  for (const Value& element : value.GetArray()) KILN_RETURN_IF_ERROR(shape_of(element, depth + 1, dims, name));
  if (value.Empty() && depth + 1 < dims.size()) return invalid_argument("input '" + name + "' is ragged");
  return {};
}

Result<Tensor> decode_value(const serving::TensorMetadata& input, const Value& value) {
  std::vector<int64_t> dims;
  KILN_RETURN_IF_ERROR(shape_of(value, 0, dims, input.name));
  const std::optional<DType> dtype = serving::dtype_from_wire_name(input.datatype);
  if (!dtype) return unimplemented("input '" + input.name + "' has datatype " + input.datatype + ", which JSON cannot carry");
  return decode_json_tensor(input.name, *dtype, Shape(dims), value);
}

// Writes the elements [offset, offset + count) of `tensor` as nested arrays over dims[axis..].
void write_nested(JsonWriter& w, const Tensor& t, const std::vector<int64_t>& dims, size_t axis, int64_t& index) {
  if (axis == dims.size()) {
    write_json_element(w, t, index++);
    return;
  }
  w.StartArray();
  for (int64_t k = 0; k < dims[axis]; ++k) write_nested(w, t, dims, axis + 1, index);
  w.EndArray();
}

// One row (index `row` of the first dimension) of an output, as TF Serving's row format has it.
void write_row(JsonWriter& w, const Tensor& t, int64_t row) {
  const std::vector<int64_t> row_dims(t.shape().dims().begin() + 1, t.shape().dims().end());
  int64_t row_size = 1;
  for (int64_t d : row_dims) row_size *= d;
  int64_t index = row * row_size;
  write_nested(w, t, row_dims, 0, index);
}

void write_whole(JsonWriter& w, const Tensor& t) {
  int64_t index = 0;
  write_nested(w, t, t.shape().dims(), 0, index);
}

Status decode_rows(const Value& instances, const serving::ModelMetadata& metadata, serving::InferenceRequest& request) {
  if (!instances.IsArray() || instances.Empty()) return invalid_argument("'instances' must be a non-empty array");
  const bool keyed = instances[0].IsObject();
  if (!keyed) {
    if (metadata.inputs.size() != 1) {
      return invalid_argument("model '" + metadata.name + "' has " + std::to_string(metadata.inputs.size()) +
                              " inputs: each instance must be an object keyed by input name");
    }
    KILN_ASSIGN_OR_RETURN(Tensor tensor, decode_value(metadata.inputs[0], instances));
    request.inputs.push_back({metadata.inputs[0].name, std::move(tensor)});
    return {};
  }
  rapidjson::Document columns;
  for (const serving::TensorMetadata& input : metadata.inputs) {
    Value column(rapidjson::kArrayType);
    for (rapidjson::SizeType i = 0; i < instances.Size(); ++i) {
      const Value& instance = instances[i];
      if (!instance.IsObject()) return invalid_argument("instance " + std::to_string(i) + " is not an object like instance 0");
      auto member = instance.FindMember(input.name.c_str());
      if (member == instance.MemberEnd()) {
        return invalid_argument("instance " + std::to_string(i) + " has no value for input '" + input.name + "'");
      }
      column.PushBack(Value(member->value, columns.GetAllocator()), columns.GetAllocator());
    }
    KILN_ASSIGN_OR_RETURN(Tensor tensor, decode_value(input, column));
    request.inputs.push_back({input.name, std::move(tensor)});
  }
  for (const auto& member : instances[0].GetObject()) {
    bool known = false;
    for (const serving::TensorMetadata& input : metadata.inputs) known = known || input.name == member.name.GetString();
    if (!known) return invalid_argument("instance 0 names '" + std::string(member.name.GetString()) + "', which is not an input of model '" + metadata.name + "'");
  }
  return {};
}

Status decode_columns(const Value& inputs, const serving::ModelMetadata& metadata, serving::InferenceRequest& request) {
  if (!inputs.IsObject()) {
    if (metadata.inputs.size() != 1) {
      return invalid_argument("model '" + metadata.name + "' has " + std::to_string(metadata.inputs.size()) +
                              " inputs: 'inputs' must be an object keyed by input name");
    }
    KILN_ASSIGN_OR_RETURN(Tensor tensor, decode_value(metadata.inputs[0], inputs));
    request.inputs.push_back({metadata.inputs[0].name, std::move(tensor)});
    return {};
  }
  for (const auto& member : inputs.GetObject()) {
    const std::string name = member.name.GetString();
    const serving::TensorMetadata* input = nullptr;
    for (const serving::TensorMetadata& candidate : metadata.inputs) {
      if (candidate.name == name) input = &candidate;
    }
    if (!input) return invalid_argument("'" + name + "' is not an input of model '" + metadata.name + "'");
    KILN_ASSIGN_OR_RETURN(Tensor tensor, decode_value(*input, member.value));
    request.inputs.push_back({name, std::move(tensor)});
  }
  return {};
}

}  // namespace

Result<TfsPath> parse_tfs_path(const std::vector<std::string>& segments) {
  TfsPath path;
  auto take_predict = [&path](std::string& segment) {
    const std::string suffix = kPredictSuffix;
    if (segment.size() > suffix.size() && segment.compare(segment.size() - suffix.size(), suffix.size(), suffix) == 0) {
      segment.resize(segment.size() - suffix.size());
      path.action = TfsAction::kPredict;
    }
  };
  std::vector<std::string> s = segments;
  if (s.size() < 2 || s[0] != "models") return not_found("unknown TensorFlow Serving path; expected /v1/models/{name}");
  size_t next = 2;
  if (s.size() >= 4 && s[2] == "versions") {
    take_predict(s[3]);
    path.version = s[3];
    next = 4;
  } else {
    take_predict(s[1]);
  }
  path.model = s[1];
  if (path.action == TfsAction::kPredict && s.size() == next) return path;
  if (path.action == TfsAction::kPredict) return not_found("':predict' must end the path");
  if (s.size() == next) return path;
  if (s.size() == next + 1 && s[next] == "metadata") {
    path.action = TfsAction::kMetadata;
    return path;
  }
  return not_found("unknown TensorFlow Serving path under model '" + path.model + "'");
}

std::string encode_tfs_model_status(const serving::ModelMetadata& metadata) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("model_version_status");
  w.StartArray();
  for (const std::string& version : metadata.versions) {
    w.StartObject();
    write_json_string(w, "version", version);
    write_json_string(w, "state", "AVAILABLE");
    w.Key("status");
    w.StartObject();
    write_json_string(w, "error_code", "OK");
    write_json_string(w, "error_message", "");
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return buffer.GetString();
}

std::string encode_tfs_metadata(const serving::ModelMetadata& metadata, const std::string& version) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  auto tensors = [&w](const char* key, const std::vector<serving::TensorMetadata>& list) {
    w.Key(key);
    w.StartObject();
    for (const serving::TensorMetadata& t : list) {
      w.Key(t.name.c_str());
      w.StartObject();
      write_json_string(w, "dtype", tf_dtype_name(t.datatype));
      w.Key("tensor_shape");
      w.StartObject();
      w.Key("dim");
      w.StartArray();
      for (int64_t d : t.shape) {
        w.StartObject();
        write_json_string(w, "size", std::to_string(d));
        write_json_string(w, "name", "");
        w.EndObject();
      }
      w.EndArray();
      w.Key("unknown_rank");
      w.Bool(false);
      w.EndObject();
      write_json_string(w, "name", t.name);
      w.EndObject();
    }
    w.EndObject();
  };
  w.StartObject();
  w.Key("model_spec");
  w.StartObject();
  write_json_string(w, "name", metadata.name);
  write_json_string(w, "signature_name", "");
  write_json_string(w, "version", version.empty() && !metadata.versions.empty() ? metadata.versions.back() : version);
  w.EndObject();
  w.Key("metadata");
  w.StartObject();
  w.Key("signature_def");
  w.StartObject();
  w.Key("signature_def");
  w.StartObject();
  w.Key(kDefaultSignature);
  w.StartObject();
  tensors("inputs", metadata.inputs);
  tensors("outputs", metadata.outputs);
  write_json_string(w, "method_name", kPredictMethod);
  w.EndObject();
  w.EndObject();
  w.EndObject();
  w.EndObject();
  w.EndObject();
  return buffer.GetString();
}

Result<TfsFormat> decode_tfs_predict(std::string_view body, const serving::ModelMetadata& metadata,
                                     serving::InferenceRequest& request) {
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError()) {
    return invalid_argument("malformed JSON at offset " + std::to_string(doc.GetErrorOffset()) + ": " +
                            rapidjson::GetParseError_En(doc.GetParseError()));
  }
  if (!doc.IsObject()) return invalid_argument("the predict request must be a JSON object");
  const Value& root = doc;
  if (root.HasMember("signature_name")) {
    const Value& signature = root["signature_name"];
    if (!signature.IsString() || std::string(signature.GetString()) != kDefaultSignature) {
      return invalid_argument(std::string("kiln models have one signature, '") + kDefaultSignature + "'");
    }
  }
  const bool has_instances = root.HasMember("instances");
  const bool has_inputs = root.HasMember("inputs");
  if (has_instances == has_inputs) return invalid_argument("a predict request needs exactly one of 'instances' and 'inputs'");
  if (has_instances) {
    KILN_RETURN_IF_ERROR(decode_rows(root["instances"], metadata, request));
    return TfsFormat::kRow;
  }
  KILN_RETURN_IF_ERROR(decode_columns(root["inputs"], metadata, request));
  return TfsFormat::kColumnar;
}

Result<std::string> encode_tfs_predict_response(TfsFormat format, const serving::InferenceResponse& response) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  const std::vector<serving::NamedTensor>& outputs = response.outputs;
  w.StartObject();
  if (format == TfsFormat::kColumnar) {
    w.Key("outputs");
    if (outputs.size() == 1) {
      write_whole(w, outputs[0].tensor);
    } else {
      w.StartObject();
      for (const serving::NamedTensor& output : outputs) {
        w.Key(output.name.c_str());
        write_whole(w, output.tensor);
      }
      w.EndObject();
    }
    w.EndObject();
    return std::string(buffer.GetString());
  }
  int64_t rows = -1;
  for (const serving::NamedTensor& output : outputs) {
    const int64_t first = output.tensor.rank() == 0 ? -1 : output.tensor.shape()[0];
    if (first < 0 || (rows >= 0 && first != rows)) {
      return invalid_argument("output '" + output.name + "' has shape " + output.tensor.shape().to_string() +
                              ", which does not split into the rows of the 'instances' format; use 'inputs'");
    }
    rows = first;
  }
  w.Key("predictions");
  w.StartArray();
  for (int64_t row = 0; row < rows; ++row) {
    if (outputs.size() == 1) {
      write_row(w, outputs[0].tensor, row);
      continue;
    }
    w.StartObject();
    for (const serving::NamedTensor& output : outputs) {
      w.Key(output.name.c_str());
      write_row(w, output.tensor, row);
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buffer.GetString());
}

}  // namespace kiln::cli::serve
