#include "node_test_case.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <set>

#include <onnx/onnx_pb.h>

#include "engine/graph_executor.h"
#include "onnx/importer.h"
#include "onnx/tensor_proto.h"

namespace kiln::conformance {
namespace fs = std::filesystem;

const char* verdict_name(Verdict verdict) {
  switch (verdict) {
    case Verdict::kPassed: return "passed";
    case Verdict::kFailed: return "failed";
    case Verdict::kSkipped: return "skipped";
  }
  return "unknown";
}

namespace {

constexpr const char* kModelFile = "model.onnx";
constexpr const char* kDataSetPrefix = "test_data_set_";
constexpr const char* kInputPrefix = "input_";
constexpr const char* kOutputPrefix = "output_";
constexpr const char* kTensorSuffix = ".pb";

std::string one_line(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  return text;
}

// Op types of the model's main graph in node order, without repeats. Read with the ONNX protobuf
// messages directly so the skip table does not depend on how far the importer got.
std::vector<std::string> model_op_types(const fs::path& model_path) {
  std::vector<std::string> ops;
  std::ifstream file(model_path, std::ios::binary);
  onnx::ModelProto model;
  if (!file || !model.ParseFromIstream(&file)) return ops;
  for (const auto& node : model.graph().node())
    if (std::find(ops.begin(), ops.end(), node.op_type()) == ops.end()) ops.push_back(node.op_type());
  return ops;
}

bool is_word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

bool mentions_word(const std::string& text, const std::string& word) {
  for (size_t at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) {
    const bool starts = at == 0 || !is_word_char(text[at - 1]);
    const size_t end = at + word.size();
    const bool ends = end == text.size() || !is_word_char(text[end]);
    if (starts && ends) return true;
  }
  return false;
}

NodeTestResult skipped(NodeTestResult result, const fs::path& test_dir, const Status& status) {
  result.verdict = Verdict::kSkipped;
  result.reason = one_line(status.to_string());
  const std::vector<std::string> ops = model_op_types(test_dir / kModelFile);
  for (const std::string& op : ops)
    if (mentions_word(status.message(), op)) result.skipped_ops.push_back(op);
  if (result.skipped_ops.empty()) result.skipped_ops = ops;
  return result;
}

NodeTestResult failed(NodeTestResult result, std::string reason) {
  result.verdict = Verdict::kFailed;
  result.reason = one_line(std::move(reason));
  return result;
}

// The numbered files "<prefix>N.pb" of a data set, in order N = 0, 1, ...
std::vector<fs::path> numbered_files(const fs::path& data_set, const std::string& prefix) {
  std::vector<fs::path> files;
  for (size_t i = 0;; ++i) {
    fs::path path = data_set / (prefix + std::to_string(i) + kTensorSuffix);
    if (!fs::exists(path)) return files;
    files.push_back(std::move(path));
  }
}

std::vector<fs::path> data_sets(const fs::path& test_dir) {
  std::vector<fs::path> sets;
  for (const auto& entry : fs::directory_iterator(test_dir))
    if (entry.is_directory() && entry.path().filename().string().rfind(kDataSetPrefix, 0) == 0)
      sets.push_back(entry.path());
  std::sort(sets.begin(), sets.end());
  return sets;
}

// Maps input_N.pb to a graph input: by the name recorded in the file when the graph has such an
// input, otherwise by position among the inputs that are not initializers.
std::optional<std::string> graph_input_name(const ir::Graph& graph, const std::string& recorded_name,
                                            size_t position) {
  for (const ir::Value* in : graph.inputs())
    if (in->name() == recorded_name) return recorded_name;
  size_t index = 0;
  for (const ir::Value* in : graph.inputs()) {
    if (in->is_constant()) continue;
    if (index++ == position) return in->name();
  }
  return std::nullopt;
}

// onnx 1.12 writes bfloat16 test data as UINT16 tensors holding the bit patterns (numpy has no
// bfloat16); where the model declares bfloat16, reinterpret them as such.
Tensor as_declared_bfloat16(Tensor recorded, const ir::Value* declared) {
  if (!declared || declared->type().dtype != DType::kBFloat16 || recorded.dtype() != DType::kUInt16)
    return recorded;
  Tensor bits(DType::kBFloat16, recorded.shape());
  std::memcpy(bits.raw_data(), recorded.raw_data(), recorded.nbytes());
  return bits;
}

// Runs one data set; a Status for UNIMPLEMENTED, a reason string for a failure.
struct DataSetOutcome {
  Status unimplemented;
  std::string failure;
};

DataSetOutcome run_data_set(const engine::GraphExecutor& executor, const fs::path& data_set,
                            const Tolerance& tolerance) {
  DataSetOutcome outcome;
  const std::string set_name = data_set.filename().string();
  std::map<std::string, Tensor> inputs;
  const std::vector<fs::path> input_files = numbered_files(data_set, kInputPrefix);
  for (size_t i = 0; i < input_files.size(); ++i) {
    std::string recorded_name;
    Result<Tensor> tensor = onnx_import::read_tensor_file(input_files[i].string(), &recorded_name);
    if (!tensor.ok()) {
      if (tensor.status().code() == StatusCode::kUnimplemented) {
        outcome.unimplemented = tensor.status();
      } else {
        outcome.failure = set_name + "/" + input_files[i].filename().string() + ": " + tensor.status().to_string();
      }
      return outcome;
    }
    std::optional<std::string> name = graph_input_name(executor.graph(), recorded_name, i);
    if (!name) {
      outcome.failure = set_name;
      outcome.failure += ": the model has no input for " + input_files[i].filename().string();
      outcome.failure += " ('" + recorded_name + "')";
      return outcome;
    }
    inputs[*name] = as_declared_bfloat16(std::move(tensor).value(), executor.graph().find_value(*name));
  }

  Result<std::vector<Tensor>> outputs = executor.run(inputs);
  if (!outputs.ok()) {
    if (outputs.status().code() == StatusCode::kUnimplemented) {
      outcome.unimplemented = outputs.status();
    } else {
      outcome.failure = set_name + ": run failed: " + outputs.status().to_string();
    }
    return outcome;
  }

  const std::vector<fs::path> expected_files = numbered_files(data_set, kOutputPrefix);
  if (expected_files.size() != outputs->size()) {
    outcome.failure = set_name + ": produced " + std::to_string(outputs->size()) + " outputs, expected " +
                      std::to_string(expected_files.size());
    return outcome;
  }
  for (size_t i = 0; i < expected_files.size(); ++i) {
    Result<Tensor> expected = onnx_import::read_tensor_file(expected_files[i].string());
    if (!expected.ok()) {
      outcome.failure = set_name + "/" + expected_files[i].filename().string() + ": " + expected.status().to_string();
      return outcome;
    }
    const ir::Value* output = executor.graph().outputs()[i];
    if (auto mismatch = compare_tensors(as_declared_bfloat16(*expected, output), (*outputs)[i], tolerance)) {
      outcome.failure = set_name;
      outcome.failure += ": output " + std::to_string(i) + " '" + output->name() + "': " + *mismatch;
      return outcome;
    }
  }
  return outcome;
}

}  // namespace

NodeTestResult run_node_test(const fs::path& test_dir, const Tolerance& tolerance) {
  NodeTestResult result;
  result.name = test_dir.filename().string();

  Result<ir::Graph> graph = onnx_import::import_file((test_dir / kModelFile).string());
  if (!graph.ok()) {
    if (graph.status().code() == StatusCode::kUnimplemented) return skipped(std::move(result), test_dir, graph.status());
    return failed(std::move(result), "import: " + graph.status().to_string());
  }
  Result<std::unique_ptr<engine::GraphExecutor>> executor = engine::GraphExecutor::create(std::move(graph).value());
  if (!executor.ok()) {
    if (executor.status().code() == StatusCode::kUnimplemented)
      return skipped(std::move(result), test_dir, executor.status());
    return failed(std::move(result), "executor: " + executor.status().to_string());
  }

  const std::vector<fs::path> sets = data_sets(test_dir);
  if (sets.empty()) return failed(std::move(result), "no test_data_set_* directory");
  for (const fs::path& data_set : sets) {
    DataSetOutcome outcome = run_data_set(**executor, data_set, tolerance);
    if (!outcome.unimplemented.ok()) return skipped(std::move(result), test_dir, outcome.unimplemented);
    if (!outcome.failure.empty()) return failed(std::move(result), outcome.failure);
  }
  result.verdict = Verdict::kPassed;
  return result;
}

}  // namespace kiln::conformance
