#include "onnx/model_loader.h"

#include <google/protobuf/io/coded_stream.h>
#include <onnx/onnx_pb.h>

#include <climits>
#include <fstream>
#include <iterator>

namespace kiln::onnx_import {
namespace {

// protobuf cannot address more than INT_MAX bytes in one message; larger models must keep
// their weights in external data files.
constexpr size_t kMaxModelBytes = static_cast<size_t>(INT_MAX);
constexpr const char* kOnnxDomainAlias = "ai.onnx";

}  // namespace

std::string canonical_domain(const std::string& domain) {
  return domain == kOnnxDomainAlias ? std::string() : domain;
}

int64_t Opsets::opset_of(const std::string& domain) const {
  auto it = by_domain.find(canonical_domain(domain));
  return it == by_domain.end() ? 0 : it->second;
}

Result<std::string> read_model_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return not_found("cannot open model file '" + path + "'");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return data_loss("error while reading model file '" + path + "'");
  return bytes;
}

Status parse_model(std::string_view bytes, const std::string& label, onnx::ModelProto& model) {
  const std::string prefix = "'" + label + "' is not a valid ONNX model: ";
  if (bytes.size() > kMaxModelBytes)
    return invalid_argument(prefix + "it is " + std::to_string(bytes.size()) +
                            " bytes, over protobuf's 2 GiB limit (store the weights as external data)");
  if (bytes.empty()) return data_loss(prefix + "the file is empty");
  google::protobuf::io::CodedInputStream stream(reinterpret_cast<const uint8_t*>(bytes.data()),
                                                static_cast<int>(bytes.size()));
  stream.SetTotalBytesLimit(static_cast<int>(kMaxModelBytes));
  if (!model.ParseFromCodedStream(&stream) || !stream.ConsumedEntireMessage())
    return data_loss(prefix + "protobuf parsing failed (the file is truncated or corrupt)");
  if (model.ir_version() <= 0)
    return invalid_argument(prefix + "ir_version is missing or not positive (" +
                            std::to_string(model.ir_version()) + ")");
  if (!model.has_graph()) return invalid_argument(prefix + "it has no graph");
  return {};
}

Result<Opsets> read_opsets(const onnx::ModelProto& model, const std::string& label) {
  Opsets opsets;
  for (const auto& entry : model.opset_import()) {
    const std::string domain = canonical_domain(entry.domain());
    if (!opsets.by_domain.emplace(domain, entry.version()).second)
      return invalid_argument("'" + label + "' imports domain '" + (domain.empty() ? kOnnxDomainAlias : domain) +
                              "' more than once");
  }
  auto it = opsets.by_domain.find("");
  if (it == opsets.by_domain.end()) return opsets;
  opsets.default_opset = it->second;
  if (opsets.default_opset < kMinSupportedOpset || opsets.default_opset > kMaxSupportedOpset)
    return unimplemented("'" + label + "' uses ONNX opset " + std::to_string(opsets.default_opset) +
                         "; kiln supports opsets " + std::to_string(kMinSupportedOpset) + " to " +
                         std::to_string(kMaxSupportedOpset) + " (convert the model with onnx.version_converter)");
  return opsets;
}

}  // namespace kiln::onnx_import
