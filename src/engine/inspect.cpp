#include "kiln/inspect.h"

#include <set>
#include <sstream>

#include "engine/constant_evaluator.h"
#include "engine/graph_executor.h"
#include "engine/input_shapes.h"
#include "ir/op_schema.h"
#include "ir/shape_inference.h"
#include "onnx/importer.h"
#include "passes/pipeline.h"

namespace kiln {
namespace {

std::optional<Shape> static_shape(const TensorInfo& info) {
  if (!info.rank_known) return std::nullopt;
  Shape shape(info.dims);
  if (!shape.is_static()) return std::nullopt;
  return shape;
}

std::optional<double> node_flops(const ir::Node& node, const NodeReport& report) {
  // Absent optional inputs are passed as empty shapes, in their positions.
  std::vector<Shape> inputs;
  for (const ir::Value* in : node.inputs()) {
    if (!in) {
      inputs.emplace_back();
      continue;
    }
    auto shape = static_shape(engine::tensor_info_of(*in));
    if (!shape) return std::nullopt;
    inputs.push_back(*shape);
  }
  std::vector<Shape> outputs;
  double output_elements = 0;
  for (const TensorInfo& out : report.outputs) {
    auto shape = static_shape(out);
    if (!shape) return std::nullopt;
    output_elements += static_cast<double>(shape->numel());
    outputs.push_back(*shape);
  }
  const ir::OpSchema* schema = ir::find_schema(node.op());
  if (schema && schema->flops) return schema->flops(node, inputs, outputs);
  return output_elements;  // the default cost model: one FLOP per output element
}

NodeReport report_node(const ir::Node& node) {
  NodeReport report;
  report.op = std::string(op_kind_name(node.op()));
  report.name = node.name();
  bool bytes_known = true;
  int64_t bytes = 0;
  auto add = [&](const ir::Value* v, std::vector<TensorInfo>& into) {
    if (!v) return;
    into.push_back(engine::tensor_info_of(*v));
    auto b = tensor_bytes(into.back());
    if (b) bytes += *b;
    else bytes_known = false;
  };
  for (const ir::Value* in : node.inputs()) add(in, report.inputs);
  for (const ir::Value* out : node.outputs()) add(out, report.outputs);
  if (!report.outputs.empty()) report.dtype = report.outputs.front().dtype;
  if (bytes_known) report.bytes = bytes;
  report.flops = node_flops(node, report);
  return report;
}

Status optimize(ir::Graph& graph, const InspectPasses& request, ModelReport& report) {
  std::ostringstream dump;
  passes::PipelineReport pipeline_report;
  passes::PipelineOptions options;
  options.dump_after = request.dump_after;
  options.channels_last = request.channels_last || request.cuda || request.cpu;
  options.channel_blocked = request.cpu;
  options.sequence_major_attention = request.cuda;
  options.dump_stream = &dump;
  options.evaluate = engine::reference_node_evaluator();
  options.report = &pipeline_report;
  options.verify_each = true;  // inspect is a diagnostic tool: name the pass that broke the IR
  Status status = passes::run_pipeline(graph, options);
  if (!status.ok()) return status.with_context("graph optimizer");
  for (const passes::PassRecord& r : pipeline_report.passes)
    report.passes.push_back(PassSummary{r.name, r.fired, static_cast<int64_t>(r.nodes_before),
                                        static_cast<int64_t>(r.nodes_after)});
  report.pass_dump = dump.str();
  return {};
}

}  // namespace

std::string shape_string(const TensorInfo& info) {
  if (!info.rank_known) return "[?rank]";
  std::string out = "[";
  for (size_t i = 0; i < info.dims.size(); ++i) {
    if (i) out += ',';
    if (info.dims[i] >= 0) out += std::to_string(info.dims[i]);
    else if (i < info.dim_names.size() && !info.dim_names[i].empty()) out += info.dim_names[i];
    else out += '?';
  }
  return out + "]";
}

std::optional<int64_t> tensor_bytes(const TensorInfo& info) {
  auto shape = static_shape(info);
  if (!shape) return std::nullopt;
  return shape->numel() * static_cast<int64_t>(dtype_size(info.dtype));
}

Result<ModelReport> inspect_model(const std::string& path, const std::map<std::string, Shape>& shapes) {
  return inspect_model(path, shapes, InspectPasses{});
}

Result<ModelReport> inspect_model(const std::string& path, const std::map<std::string, Shape>& shapes,
                                  const InspectPasses& passes) {
  KILN_ASSIGN_OR_RETURN(ir::Graph graph, onnx_import::import_file(path));
  if (!shapes.empty()) {
    KILN_RETURN_IF_ERROR(engine::fix_input_shapes(graph, shapes));
    Status inferred = ir::infer_shapes(graph);
    if (!inferred.ok()) return inferred.with_context("shape inference with the given input shapes");
  }

  ModelReport report;
  if (passes.run || !passes.dump_after.empty()) KILN_RETURN_IF_ERROR(optimize(graph, passes, report));
  report.path = path;
  report.graph_name = graph.name;
  report.opset = graph.opset;
  for (const ir::Value* in : graph.inputs())
    if (!in->is_constant()) report.inputs.push_back(engine::tensor_info_of(*in));
  for (const ir::Value* out : graph.outputs()) report.outputs.push_back(engine::tensor_info_of(*out));

  for (const auto& node : graph.nodes()) {
    report.nodes.push_back(report_node(*node));
    const NodeReport& n = report.nodes.back();
    if (n.flops) report.total_flops += *n.flops;
    else report.flops_known = false;
  }

  for (const auto& value : graph.values()) {
    if (const Tensor* data = value->constant()) {
      report.parameter_count += data->numel();
      report.parameter_bytes += static_cast<int64_t>(data->nbytes());
    }
  }
  auto add_activation = [&](const ir::Value& v) {
    if (v.is_constant()) return;
    auto b = tensor_bytes(engine::tensor_info_of(v));
    if (b) report.activation_bytes += *b;
    else report.activation_bytes_known = false;
  };
  for (const ir::Value* in : graph.inputs()) add_activation(*in);
  for (const auto& node : graph.nodes())
    for (const ir::Value* out : node->outputs())
      if (out) add_activation(*out);
  return report;
}

}  // namespace kiln
