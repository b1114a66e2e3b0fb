#include "serve_grpc_codec.h"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "serve_binary.h"
#include "serve_protocol.h"
#include "serving/datatype.h"

namespace kiln::cli::serve {
namespace {

constexpr int kMaxRank = 32;  // as for JSON requests; the message size limit bounds the rest

std::string describe(const std::string& name, DType dtype, const Shape& shape) {
  return "input '" + name + "' (" + std::string(serving::wire_name(dtype)) + " " + shape.to_string() + ")";
}

// Copies typed contents into a tensor of type T, checking that each value fits T.
template <class T, class Repeated>
Result<Tensor> typed_tensor(const std::string& name, DType dtype, const Shape& shape, uint64_t count, const Repeated& values,
                            const char* field) {
  if (static_cast<uint64_t>(values.size()) != count) {
    return invalid_argument(describe(name, dtype, shape) + " needs " + std::to_string(count) + " elements but contents." +
                            field + " has " + std::to_string(values.size()));
  }
  Tensor tensor(dtype, shape);
  T* out = tensor.data<T>();
  for (int i = 0; i < values.size(); ++i) {
    const auto v = values.Get(i);
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
      if (!std::in_range<T>(v)) {
        return invalid_argument(describe(name, dtype, shape) + ": element " + std::to_string(i) + " (" + std::to_string(v) +
                                ") is out of range for " + std::string(serving::wire_name(dtype)));
      }
    }
    out[i] = static_cast<T>(v);
  }
  return tensor;
}

Result<Tensor> decode_typed(const std::string& name, DType dtype, const Shape& shape, uint64_t count,
                            const inference::InferTensorContents& c) {
  switch (dtype) {
    case DType::kBool: return typed_tensor<bool>(name, dtype, shape, count, c.bool_contents(), "bool_contents");
    case DType::kInt8: return typed_tensor<int8_t>(name, dtype, shape, count, c.int_contents(), "int_contents");
    case DType::kInt16: return typed_tensor<int16_t>(name, dtype, shape, count, c.int_contents(), "int_contents");
    case DType::kInt32: return typed_tensor<int32_t>(name, dtype, shape, count, c.int_contents(), "int_contents");
    case DType::kInt64: return typed_tensor<int64_t>(name, dtype, shape, count, c.int64_contents(), "int64_contents");
    case DType::kUInt8: return typed_tensor<uint8_t>(name, dtype, shape, count, c.uint_contents(), "uint_contents");
    case DType::kUInt16: return typed_tensor<uint16_t>(name, dtype, shape, count, c.uint_contents(), "uint_contents");
    case DType::kUInt32: return typed_tensor<uint32_t>(name, dtype, shape, count, c.uint_contents(), "uint_contents");
    case DType::kUInt64: return typed_tensor<uint64_t>(name, dtype, shape, count, c.uint64_contents(), "uint64_contents");
    case DType::kFloat32: return typed_tensor<float>(name, dtype, shape, count, c.fp32_contents(), "fp32_contents");
    case DType::kFloat64: return typed_tensor<double>(name, dtype, shape, count, c.fp64_contents(), "fp64_contents");
    case DType::kBytes: {
      if (static_cast<uint64_t>(c.bytes_contents().size()) != count) {
        return invalid_argument(describe(name, dtype, shape) + " needs " + std::to_string(count) +
                                " elements but contents.bytes_contents has " + std::to_string(c.bytes_contents().size()));
      }
      return Tensor::from_strings(shape, std::vector<std::string>(c.bytes_contents().begin(), c.bytes_contents().end()));
    }
    default:
      return invalid_argument(describe(name, dtype, shape) + ": " + std::string(serving::wire_name(dtype)) +
                              " has no typed contents field; send it in raw_input_contents");
  }
}

bool has_typed_contents(const inference::InferTensorContents& c) {
  return c.bool_contents_size() || c.int_contents_size() || c.int64_contents_size() || c.uint_contents_size() ||
         c.uint64_contents_size() || c.fp32_contents_size() || c.fp64_contents_size() || c.bytes_contents_size();
}

ParameterValue parameter_value(const inference::InferParameter& p) {
  switch (p.parameter_choice_case()) {
    case inference::InferParameter::kBoolParam: return p.bool_param();
    case inference::InferParameter::kInt64Param: return p.int64_param();
    case inference::InferParameter::kUint64Param: return p.uint64_param();
    case inference::InferParameter::kDoubleParam: return p.double_param();
    case inference::InferParameter::kStringParam: return p.string_param();
    default: return std::string();
  }
}

std::map<std::string, ParameterValue> parameter_map(const google::protobuf::Map<std::string, inference::InferParameter>& parameters) {
  std::map<std::string, ParameterValue> out;
  for (const auto& [key, value] : parameters) out[key] = parameter_value(value);
  return out;
}

void set_duration(const serving::DurationStat& from, inference::StatisticDuration* to) {
  to->set_count(from.count);
  to->set_ns(from.ns);
}

}  // namespace

Status decode_model_infer_request(inference::ModelInferRequest& message, const serving::SharedMemoryRegistry& shared_memory,
                                  serving::InferenceRequest& request) {
  // Swapping the bytes out of the message is O(1): the tensors share them, no copy.
  std::vector<InferBody> raw_contents;
  raw_contents.reserve(static_cast<size_t>(message.raw_input_contents_size()));
  for (std::string& contents : *message.mutable_raw_input_contents()) {
    auto bytes = std::make_shared<std::string>();
    bytes->swap(contents);
    raw_contents.push_back({bytes, std::string_view(*bytes), 0});
  }
  message.clear_raw_input_contents();
  return decode_model_infer_request(message, raw_contents, shared_memory, request);
}

Status decode_model_infer_request(const inference::ModelInferRequest& message, const std::vector<InferBody>& raw_contents,
                                  const serving::SharedMemoryRegistry& shared_memory, serving::InferenceRequest& request) {
  request.id = message.id();
  for (const auto& [key, value] : message.parameters()) {
    KILN_RETURN_IF_ERROR(apply_request_parameter(key, parameter_value(value), request));
  }
  // Inputs in shared memory have no raw_input_contents entry: the others are numbered in order.
  std::vector<std::optional<serving::SharedMemorySpan>> spans;
  int in_message = 0;
  for (int i = 0; i < message.inputs_size(); ++i) {
    const inference::ModelInferRequest::InferInputTensor& input = message.inputs(i);
    if (input.name().empty()) return invalid_argument("inputs[" + std::to_string(i) + "] has no name");
    KILN_ASSIGN_OR_RETURN(std::optional<serving::SharedMemorySpan> span,
                          shared_memory_span("input '" + input.name() + "'", parameter_map(input.parameters()), shared_memory));
    if (!span) ++in_message;
    spans.push_back(std::move(span));
  }
  const int raw_count = static_cast<int>(raw_contents.size());
  if (raw_count != 0 && raw_count != in_message) {
    return invalid_argument("raw_input_contents has " + std::to_string(raw_count) + " entries but the request has " +
                            std::to_string(in_message) + " inputs not in shared memory: send every such input raw, or none");
  }
  int raw_index = 0;
  for (int i = 0; i < message.inputs_size(); ++i) {
    const inference::ModelInferRequest::InferInputTensor& input = message.inputs(i);
    const std::string& name = input.name();
    const std::optional<DType> dtype = serving::dtype_from_wire_name(input.datatype());
    if (!dtype) {
      return invalid_argument("input '" + name + "': unknown datatype '" + input.datatype() +
                              "' (expected BOOL, UINT8..UINT64, INT8..INT64, FP16, FP32, FP64, BF16 or BYTES)");
    }
    if (input.shape_size() > kMaxRank) {
      return invalid_argument("input '" + name + "': shape has " + std::to_string(input.shape_size()) +
                              " dimensions; at most " + std::to_string(kMaxRank) + " are accepted");
    }
    const std::vector<int64_t> dims(input.shape().begin(), input.shape().end());
    const Shape shape(dims);
    // Checked in int64, as every later use of the shape computes it (a zero dim makes it 0).
    const std::optional<int64_t> elements = shape.checked_numel();
    if (!elements) return invalid_argument("input '" + name + "': shape has a negative size or its element count overflows");
    const auto count = static_cast<uint64_t>(*elements);
    if (spans[i]) {
      if (has_typed_contents(input.contents())) return invalid_argument("input '" + name + "' has both contents and shared memory parameters");
      KILN_ASSIGN_OR_RETURN(Tensor tensor, serving::shared_memory_tensor(name, *dtype, shape, *spans[i]));
      request.inputs.push_back({name, std::move(tensor)});
      continue;
    }
    const int raw = raw_index++;
    if (raw_count == 0) {
      KILN_ASSIGN_OR_RETURN(Tensor tensor, decode_typed(name, *dtype, shape, count, input.contents()));
      request.inputs.push_back({name, std::move(tensor)});
      continue;
    }
    if (has_typed_contents(input.contents())) {
      return invalid_argument("input '" + name + "' has typed contents although the request sends raw_input_contents");
    }
    const InferBody& body = raw_contents[static_cast<size_t>(raw)];
    const size_t size = body.bytes.size();
    uint64_t expected = 0;
    if (*dtype != DType::kBytes) {
      if (__builtin_mul_overflow(count, static_cast<uint64_t>(dtype_size(*dtype)), &expected)) {
        return invalid_argument(describe(name, *dtype, shape) + ": the byte size overflows");
      }
      if (static_cast<uint64_t>(size) != expected) {
        return invalid_argument(describe(name, *dtype, shape) + " needs " + std::to_string(expected) + " bytes but raw_input_contents[" +
                                std::to_string(raw) + "] has " + std::to_string(size) + (size < expected ? ": truncated contents" : ""));
      }
    }
    KILN_ASSIGN_OR_RETURN(Tensor tensor, decode_binary_tensor(name, *dtype, shape, body, 0, size));
    request.inputs.push_back({name, std::move(tensor)});
  }
  for (const auto& output : message.outputs()) {
    if (output.name().empty()) return invalid_argument("a requested output has no name");
    KILN_ASSIGN_OR_RETURN(std::optional<serving::SharedMemorySpan> span,
                          shared_memory_span("output '" + output.name() + "'", parameter_map(output.parameters()), shared_memory));
    request.outputs.push_back({output.name(), true, std::move(span)});
  }
  return {};
}

void encode_model_infer_response(const serving::InferenceResponse& response, inference::ModelInferResponse& message) {
  message.set_model_name(response.model_name);
  message.set_model_version(response.model_version);
  message.set_id(response.id);
  for (const serving::NamedTensor& output : response.outputs) {
    inference::ModelInferResponse::InferOutputTensor* tensor = message.add_outputs();
    tensor->set_name(output.name);
    tensor->set_datatype(std::string(serving::wire_name(output.tensor.dtype())));
    for (int64_t d : output.tensor.shape().dims()) tensor->add_shape(d);
    const serving::RequestedOutput* requested = response.requested_for(output.name);
    if (requested != nullptr && requested->shared_memory) {
      // The server copied it into the client's region (InferenceServer::infer): no raw_output_contents entry.
      auto& parameters = *tensor->mutable_parameters();
      parameters["shared_memory_region"].set_string_param(requested->shared_memory->ref.region);
      parameters["shared_memory_byte_size"].set_int64_param(static_cast<int64_t>(output.tensor.nbytes()));
      if (requested->shared_memory->ref.offset != 0)
        parameters["shared_memory_offset"].set_int64_param(static_cast<int64_t>(requested->shared_memory->ref.offset));
      continue;
    }
    append_binary_tensor(output.tensor, *message.add_raw_output_contents());
  }
}

void encode_model_metadata(const serving::ModelMetadata& metadata, inference::ModelMetadataResponse& message) {
  message.set_name(metadata.name);
  for (const std::string& version : metadata.versions) message.add_versions(version);
  message.set_platform(metadata.platform);
  auto add = [](const serving::TensorMetadata& from, inference::ModelMetadataResponse::TensorMetadata* to) {
    to->set_name(from.name);
    to->set_datatype(from.datatype);
    for (int64_t d : from.shape) to->add_shape(d);
  };
  for (const serving::TensorMetadata& input : metadata.inputs) add(input, message.add_inputs());
  for (const serving::TensorMetadata& output : metadata.outputs) add(output, message.add_outputs());
}

void encode_statistics(const std::vector<serving::VersionStatistics>& stats, inference::ModelStatisticsResponse& message) {
  for (const serving::VersionStatistics& entry : stats) {
    inference::ModelStatistics* out = message.add_model_stats();
    out->set_name(entry.name);
    out->set_version(entry.version);
    out->set_last_inference(entry.stats.last_inference_ms);
    out->set_inference_count(entry.stats.inference_count);
    out->set_execution_count(entry.stats.execution_count);
    inference::InferStatistics* infer = out->mutable_inference_stats();
    set_duration(entry.stats.success, infer->mutable_success());
    set_duration(entry.stats.fail, infer->mutable_fail());
    set_duration(entry.stats.queue, infer->mutable_queue());
    set_duration(entry.stats.compute_input, infer->mutable_compute_input());
    set_duration(entry.stats.compute_infer, infer->mutable_compute_infer());
    set_duration(entry.stats.compute_output, infer->mutable_compute_output());
    for (const auto& [batch_size, batch] : entry.stats.batch_stats) {
      inference::InferBatchStatistics* b = out->add_batch_stats();
      b->set_batch_size(batch_size);
      set_duration(batch.compute_input, b->mutable_compute_input());
      set_duration(batch.compute_infer, b->mutable_compute_infer());
      set_duration(batch.compute_output, b->mutable_compute_output());
    }
  }
}

void encode_repository_index(const std::vector<serving::RepositoryEntry>& entries, inference::RepositoryIndexResponse& message) {
  for (const serving::RepositoryEntry& entry : entries) {
    inference::RepositoryIndexResponse::ModelIndex* model = message.add_models();
    model->set_name(entry.name);
    model->set_version(entry.version);
    model->set_state(entry.state);
    model->set_reason(entry.reason);
  }
}

}  // namespace kiln::cli::serve
