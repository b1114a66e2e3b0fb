// The importer's entry points: load -> build (with opset upgrades) -> infer and verify.
#include "onnx/importer.h"

#include <onnx/onnx_pb.h>

#include <filesystem>

#include "ir/op_schema.h"
#include "ir/shape_inference.h"
#include "ir/verifier.h"
#include "onnx/graph_builder.h"
#include "onnx/model_loader.h"

namespace kiln::onnx_import {
namespace {

constexpr const char* kInMemoryLabel = "<model bytes>";

// Schema inference functions may assume their required inputs exist, so a malformed model is
// stopped here, before ir::infer_shapes, with an error naming the node.
Status check_arity(const ir::Graph& graph) {
  for (const auto& node : graph.nodes()) {
    const ir::OpSchema* schema = ir::find_schema(node->op());
    if (schema == nullptr) return internal_error(node->describe() + ": op has no schema");
    KILN_RETURN_IF_ERROR(ir::check_node_arity(*node, *schema));
  }
  return {};
}

Result<ir::Graph> import_model(std::string_view bytes, const std::string& base_dir, const std::string& label,
                               const ImportOptions& options) {
  onnx::ModelProto model;
  KILN_RETURN_IF_ERROR(parse_model(bytes, label, model));
  KILN_ASSIGN_OR_RETURN(Opsets opsets, read_opsets(model, label));
  auto graph = build_graph(model, opsets, base_dir);
  if (!graph.ok()) return graph.status().with_context(label);
  if (options.infer_and_verify) {
    KILN_RETURN_IF_ERROR(check_arity(*graph).with_context(label));
    KILN_RETURN_IF_ERROR(ir::infer_shapes(*graph).with_context(label));
    KILN_RETURN_IF_ERROR(ir::verify(*graph).with_context(label));
  }
  return graph;
}

}  // namespace

Result<ir::Graph> import_file(const std::string& path, const ImportOptions& options) {
  KILN_ASSIGN_OR_RETURN(std::string bytes, read_model_file(path));
  std::filesystem::path base_dir = std::filesystem::path(path).parent_path();
  if (base_dir.empty()) {  // a bare file name: the current directory
    std::error_code ec;
    base_dir = std::filesystem::current_path(ec);
    if (ec) base_dir = std::filesystem::path(".");
  }
  return import_model(bytes, base_dir.string(), path, options);
}

Result<ir::Graph> import_bytes(std::string_view bytes, const std::string& base_dir, const ImportOptions& options) {
  return import_model(bytes, base_dir, kInMemoryLabel, options);
}

}  // namespace kiln::onnx_import
