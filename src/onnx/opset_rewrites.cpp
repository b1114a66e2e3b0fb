// Upgrades that change the shape of the graph rather than just moving attributes.
#include "onnx/opset_upgrade.h"

namespace kiln::onnx_import {
namespace {

constexpr int64_t kUpsampleScalesInput = 9;   // Upsample-9 takes scales as an input
constexpr int64_t kDefaultSoftmaxAxis = 1;    // Softmax-1/11 default

// Axis of the input's last dimension when its rank is declared, else nullopt.
std::optional<int64_t> last_axis_if_known(const ir::Value* input) {
  if (input == nullptr || !input->type().shape) return std::nullopt;
  return static_cast<int64_t>(input->type().shape->size()) - 1;
}

// The input's shape as a constant when every dim is declared, so that shape inference sees the
// exact output shape; nullptr otherwise (a Shape node computes it at run time).
ir::Value* static_shape_constant(ir::Graph& graph, const NodeDraft& node, const ir::Value* input) {
  if (!input->type().shape) return nullptr;
  std::vector<int64_t> dims;
  for (const ir::Dim& d : *input->type().shape) {
    if (!d.is_known()) return nullptr;
    dims.push_back(d.value);
  }
  return int64_constant(graph, node, "_input_shape", dims);
}

}  // namespace

// Before opset 13 these ops flatten the input to 2-D at `axis` ([d0*..*d(axis-1), rest]),
// normalise each row and reshape back. When `axis` is the last dimension this is the same as the
// opset-13 op on that axis; otherwise we spell the coercion out: Shape, Flatten(axis),
// op(axis=1), Reshape(allowzero=1, so that zero-sized dims are kept rather than copied).
Status emit_coerced_softmax(ir::Graph& graph, NodeDraft node, int64_t opset) {
  if (node.inputs.empty() || node.inputs[0] == nullptr || node.outputs.empty() || node.outputs[0] == nullptr)
    return invalid_argument(describe_draft(node, opset) + " needs one input and one output");
  int64_t axis = kDefaultSoftmaxAxis;
  if (node.attrs.has("axis")) {
    const auto* a = std::get_if<int64_t>(&node.attrs.all().at("axis"));
    if (a == nullptr) return invalid_argument(describe_draft(node, opset) + ": attribute 'axis' must be an int");
    axis = *a;
  }
  ir::Value* input = node.inputs[0];
  const auto last = last_axis_if_known(input);
  if (last && (axis == *last || axis == -1)) {
    node.attrs.set("axis", int64_t{-1});
    graph.add_node(node.op, node.name, {input}, {node.outputs[0]}, std::move(node.attrs));
    return {};
  }
  ir::Value* original_shape = static_shape_constant(graph, node, input);
  if (original_shape == nullptr) {
    original_shape = graph.add_value(node.name + "_input_shape");
    graph.add_node(OpKind::Shape, node.name + "_shape", {input}, {original_shape});
  }

  Attributes flatten_attrs;
  flatten_attrs.set("axis", axis);
  ir::Value* flat = graph.add_value(node.name + "_2d_input");
  graph.add_node(OpKind::Flatten, node.name + "_flatten", {input}, {flat}, std::move(flatten_attrs));

  node.attrs.set("axis", int64_t{1});
  ir::Value* flat_result = graph.add_value(node.name + "_2d_output");
  graph.add_node(node.op, node.name, {flat}, {flat_result}, std::move(node.attrs));

  Attributes reshape_attrs;
  reshape_attrs.set("allowzero", int64_t{1});
  graph.add_node(OpKind::Reshape, node.name + "_reshape", {flat_result, original_shape}, {node.outputs[0]},
                 std::move(reshape_attrs));
  return {};
}

// Upsample-7/9 and Resize-10 scale with asymmetric coordinates (x_in = x_out / scale) and take
// the floor for nearest; Resize-11+ says so with attributes and moves scales to input 2.
Status emit_legacy_resize(ir::Graph& graph, NodeDraft node, int64_t opset) {
  if (node.inputs.empty() || node.inputs[0] == nullptr)
    return invalid_argument(describe_draft(node, opset) + " has no data input");
  ir::Value* scales = nullptr;
  const bool scales_attribute = node.op_type == "Upsample" && opset < kUpsampleScalesInput;
  if (scales_attribute) {
    if (!node.attrs.has("scales")) return invalid_argument(describe_draft(node, opset) + " has no attribute 'scales'");
    const auto* values = std::get_if<std::vector<float>>(&node.attrs.all().at("scales"));
    if (values == nullptr) return invalid_argument(describe_draft(node, opset) + ": attribute 'scales' must be floats");
    scales = float_constant(graph, node, "_scales", *values);
  } else {
    scales = node.inputs.size() > 1 ? node.inputs[1] : nullptr;
    if (scales == nullptr) return invalid_argument(describe_draft(node, opset) + " has no 'scales' input");
  }
  std::string mode = node.attrs.get_string("mode", "nearest");
  if (mode == "bilinear") mode = "linear";  // spelling used by early Upsample exporters

  Attributes attrs;
  attrs.set("mode", mode);
  attrs.set("coordinate_transformation_mode", std::string("asymmetric"));
  if (mode == "nearest") attrs.set("nearest_mode", std::string("floor"));
  graph.add_node(OpKind::Resize, node.name, {node.inputs[0], nullptr, scales}, std::move(node.outputs),
                 std::move(attrs));
  return {};
}

}  // namespace kiln::onnx_import
