// Builds small ONNX models in C++ for the importer tests.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "kiln/status.h"
#include "onnx/importer.h"

namespace kiln::onnx_test {

inline constexpr int64_t kLatestOpset = 17;
inline constexpr int64_t kCurrentIrVersion = 8;

class ModelBuilder {
 public:
  explicit ModelBuilder(int64_t opset = kLatestOpset);

  onnx::ModelProto& model() { return model_; }
  onnx::GraphProto& graph() { return *model_.mutable_graph(); }

  // Dims: "" = unknown, digits = a size, anything else = a symbolic name.
  onnx::ValueInfoProto* input(const std::string& name, int32_t elem_type, const std::vector<std::string>& dims);
  onnx::ValueInfoProto* input(const std::string& name, int32_t elem_type, const std::vector<int64_t>& dims);
  onnx::ValueInfoProto* output(const std::string& name, int32_t elem_type = 0);
  onnx::NodeProto* node(const std::string& op_type, const std::vector<std::string>& inputs,
                        const std::vector<std::string>& outputs, const std::string& name = "");
  onnx::TensorProto* initializer(const std::string& name, const std::vector<int64_t>& dims,
                                 const std::vector<float>& values);
  onnx::TensorProto* int64_initializer(const std::string& name, const std::vector<int64_t>& dims,
                                       const std::vector<int64_t>& values);

  std::string bytes() const;
  Result<ir::Graph> import(bool infer_and_verify = false, const std::string& base_dir = "") const;

 private:
  onnx::ModelProto model_;
};

void set_int(onnx::NodeProto* node, const std::string& name, int64_t value);
void set_ints(onnx::NodeProto* node, const std::string& name, const std::vector<int64_t>& values);
void set_float(onnx::NodeProto* node, const std::string& name, float value);
void set_floats(onnx::NodeProto* node, const std::string& name, const std::vector<float>& values);
void set_string(onnx::NodeProto* node, const std::string& name, const std::string& value);
void set_tensor(onnx::NodeProto* node, const std::string& name, const onnx::TensorProto& value);

// A float tensor stored in raw_data or float_data.
onnx::TensorProto float_tensor(const std::string& name, const std::vector<int64_t>& dims,
                               const std::vector<float>& values, bool raw);

// The node that produces `value_name` (nullptr if none).
const ir::Node* producer_of(const ir::Graph& graph, const std::string& value_name);
// Count of nodes of one kind.
size_t count_nodes(const ir::Graph& graph, OpKind op);

}  // namespace kiln::onnx_test
