// Attribute -> input moves and small fix-ups; the larger rewrites live in opset_rewrites.cpp.
// Opset numbers below are the ONNX versions in which each op took its opset-17 form
// (docs/Changelog.md of the ONNX spec).
#include "onnx/opset_upgrade.h"

#include <map>

#include "core/dtype_dispatch.h"

namespace kiln::onnx_import {
namespace {

// First opset with the IR form of each op.
constexpr int64_t kSqueezeAxesInput = 13;     // Squeeze-13 / Unsqueeze-13
constexpr int64_t kSplitSizesInput = 13;      // Split-13
constexpr int64_t kReduceSumAxesInput = 13;   // ReduceSum-13 (other Reduce* only in 18)
constexpr int64_t kSliceInputs = 10;          // Slice-10
constexpr int64_t kPadInputs = 11;            // Pad-11
constexpr int64_t kClipInputs = 11;           // Clip-11
constexpr int64_t kTopKInput = 10;            // TopK-10
constexpr int64_t kDropoutRatioInput = 12;    // Dropout-12
constexpr int64_t kResizeOpset11Form = 11;    // Resize-11
constexpr int64_t kSoftmaxAnyAxis = 13;       // Softmax/LogSoftmax/Hardmax-13
constexpr int64_t kBatchNormThreeOutputs = 14; // BatchNormalization-14 (training outputs changed)

constexpr float kDefaultDropoutRatio = 0.5f;

bool is_reduce(OpKind op) {
  switch (op) {
    case OpKind::ReduceSum:
    case OpKind::ReduceMean:
    case OpKind::ReduceMax:
    case OpKind::ReduceMin:
    case OpKind::ReduceProd:
    case OpKind::ReduceL1:
    case OpKind::ReduceL2:
    case OpKind::ReduceLogSum:
    case OpKind::ReduceLogSumExp:
    case OpKind::ReduceSumSquare:
      return true;
    default:
      return false;
  }
}

// Input 0, or nullptr when the node has none (a malformed model).
ir::Value* data_input(const NodeDraft& node) { return node.inputs.empty() ? nullptr : node.inputs[0]; }

Status wrong_attribute_kind(const NodeDraft& node, int64_t opset, const std::string& attr, const char* expected) {
  return invalid_argument(describe_draft(node, opset) + ": attribute '" + attr + "' must be " + expected);
}

// Moves an INTS attribute to input `index` as a 1-D int64 constant (absent attribute: absent input).
Status ints_attr_to_input(ir::Graph& graph, NodeDraft& node, int64_t opset, const std::string& attr, size_t index) {
  if (!node.attrs.has(attr)) return {};
  const auto& value = node.attrs.all().at(attr);
  const auto* ints = std::get_if<std::vector<int64_t>>(&value);
  if (ints == nullptr) return wrong_attribute_kind(node, opset, attr, "a list of ints");
  set_input(node, index, int64_constant(graph, node, "_" + attr, *ints));
  node.attrs.erase(attr);
  return {};
}

// A scalar of `like`'s dtype holding `value`. The old attribute forms of Pad and Clip only allow
// floating-point inputs; when the dtype is not declared, a CastLike node converts at run time.
Result<ir::Value*> float_scalar_like(ir::Graph& graph, const NodeDraft& node, int64_t opset, ir::Value* like,
                                     float value, const std::string& suffix) {
  if (like == nullptr) return invalid_argument(describe_draft(node, opset) + " has no data input");
  const DType dtype = like->type().dtype;
  if (dtype_is_floating(dtype)) {
    Tensor t(dtype, Shape{});
    visit_dtype(dtype, [&](auto tag) {
      using T = decltype(tag);
      t.data<T>()[0] = convert_element<T>(value);
    });
    return graph.add_constant(node.name + suffix, std::move(t));
  }
  if (dtype != DType::kUndefined)
    return invalid_argument(describe_draft(node, opset) + " takes a floating-point input in this opset, not " +
                            std::string(dtype_name(dtype)));
  ir::Value* as_float = graph.add_constant(node.name + suffix + "_f32",
                                           Tensor::from_vector(DType::kFloat32, Shape{}, std::vector<float>{value}));
  ir::Value* out = graph.add_value(node.name + suffix);
  graph.add_node(OpKind::CastLike, node.name + suffix + "_cast", {as_float, like}, {out});
  return out;
}

Result<bool> float_attr(const NodeDraft& node, int64_t opset, const std::string& attr, float& out) {
  if (!node.attrs.has(attr)) return false;
  const auto* f = std::get_if<float>(&node.attrs.all().at(attr));
  if (f == nullptr) return wrong_attribute_kind(node, opset, attr, "a float");
  out = *f;
  return true;
}

Status upgrade_pad(ir::Graph& graph, NodeDraft& node, int64_t opset) {
  KILN_RETURN_IF_ERROR(ints_attr_to_input(graph, node, opset, "pads", 1));
  float value = 0.0f;
  KILN_ASSIGN_OR_RETURN(bool has_value, float_attr(node, opset, "value", value));
  node.attrs.erase("value");
  if (has_value && value != 0.0f) {  // 0 is the default of the optional constant_value input
    KILN_ASSIGN_OR_RETURN(ir::Value * constant, float_scalar_like(graph, node, opset, data_input(node), value, "_value"));
    set_input(node, 2, constant);
  }
  return {};
}

Status upgrade_clip(ir::Graph& graph, NodeDraft& node, int64_t opset) {
  const std::pair<const char*, size_t> bounds[] = {{"min", 1}, {"max", 2}};
  for (const auto& [attr, index] : bounds) {
    float value = 0.0f;
    KILN_ASSIGN_OR_RETURN(bool present, float_attr(node, opset, attr, value));
    if (!present) continue;  // an absent bound input means unbounded, like the absent attribute
    node.attrs.erase(attr);
    KILN_ASSIGN_OR_RETURN(ir::Value * constant,
                          float_scalar_like(graph, node, opset, data_input(node), value, std::string("_") + attr));
    set_input(node, index, constant);
  }
  return {};
}

Status upgrade_topk(ir::Graph& graph, NodeDraft& node, int64_t opset) {
  if (!node.attrs.has("k")) return invalid_argument(describe_draft(node, opset) + " has no attribute 'k'");
  const auto* k = std::get_if<int64_t>(&node.attrs.all().at("k"));
  if (k == nullptr) return wrong_attribute_kind(node, opset, "k", "an int");
  set_input(node, 1, int64_constant(graph, node, "_k", {*k}));
  node.attrs.erase("k");
  return {};
}

Status upgrade_dropout(ir::Graph& graph, NodeDraft& node, int64_t opset) {
  float ratio = kDefaultDropoutRatio;
  KILN_ASSIGN_OR_RETURN(bool has_ratio, float_attr(node, opset, "ratio", ratio));
  (void)has_ratio;
  node.attrs.erase("ratio");
  node.attrs.erase("is_test");
  set_input(node, 1, graph.add_constant(node.name + "_ratio",
                                        Tensor::from_vector(DType::kFloat32, Shape{}, std::vector<float>{ratio})));
  return {};
}

Status upgrade_batch_norm(NodeDraft& node, int64_t opset) {
  // spatial=0 (per-activation statistics, opsets 7-8) has no opset-17 equivalent.
  if (node.attrs.has("spatial") && node.attrs.get_int("spatial", 1) == 0)
    return unimplemented(describe_draft(node, opset) + " uses spatial=0, which kiln does not support");
  node.attrs.erase("spatial");
  node.attrs.erase("is_test");
  node.attrs.erase("consumed_inputs");
  // Before opset 14 the optional outputs were training statistics with other meanings; in
  // inference only Y is defined.
  if (opset < kBatchNormThreeOutputs && node.outputs.size() > 1) node.outputs.resize(1);
  return {};
}

}  // namespace

std::optional<OpKind> ir_op_for(const std::string& op_type) {
  static const std::map<std::string, OpKind> kRenamed = {
      {"Upsample", OpKind::Resize},
      {"Scatter", OpKind::ScatterElements},  // Scatter-9/11 is ScatterElements under its old name
  };
  auto it = kRenamed.find(op_type);
  if (it != kRenamed.end()) return it->second;
  return op_kind_from_name(op_type);
}

ir::Value* int64_constant(ir::Graph& graph, const NodeDraft& node, const std::string& suffix,
                          const std::vector<int64_t>& values) {
  return graph.add_constant(node.name + suffix,
                            Tensor::from_vector(DType::kInt64, Shape{static_cast<int64_t>(values.size())}, values));
}

ir::Value* float_constant(ir::Graph& graph, const NodeDraft& node, const std::string& suffix,
                          const std::vector<float>& values) {
  return graph.add_constant(node.name + suffix,
                            Tensor::from_vector(DType::kFloat32, Shape{static_cast<int64_t>(values.size())}, values));
}

void set_input(NodeDraft& node, size_t index, ir::Value* value) {
  if (node.inputs.size() <= index) node.inputs.resize(index + 1, nullptr);
  node.inputs[index] = value;
}

std::string describe_draft(const NodeDraft& node, int64_t opset) {
  return node.op_type + " '" + node.name + "' (opset " + std::to_string(opset) + ")";
}

Status emit_in_ir_form(ir::Graph& graph, NodeDraft node, int64_t opset) {
  if (node.op_type == "Upsample" || (node.op == OpKind::Resize && opset < kResizeOpset11Form))
    return emit_legacy_resize(graph, std::move(node), opset);
  switch (node.op) {
    case OpKind::Squeeze:
    case OpKind::Unsqueeze:
      if (opset < kSqueezeAxesInput) KILN_RETURN_IF_ERROR(ints_attr_to_input(graph, node, opset, "axes", 1));
      break;
    case OpKind::Split:
      if (opset < kSplitSizesInput) KILN_RETURN_IF_ERROR(ints_attr_to_input(graph, node, opset, "split", 1));
      break;
    case OpKind::Slice:
      if (opset < kSliceInputs) {
        if (node.inputs.size() > 1)
          return invalid_argument(describe_draft(node, opset) + " takes starts/ends as attributes, not inputs");
        if (!node.attrs.has("starts") || !node.attrs.has("ends"))
          return invalid_argument(describe_draft(node, opset) + " needs attributes 'starts' and 'ends'");
        KILN_RETURN_IF_ERROR(ints_attr_to_input(graph, node, opset, "starts", 1));
        KILN_RETURN_IF_ERROR(ints_attr_to_input(graph, node, opset, "ends", 2));
        KILN_RETURN_IF_ERROR(ints_attr_to_input(graph, node, opset, "axes", 3));
      }
      break;
    case OpKind::Pad:
      if (opset < kPadInputs) KILN_RETURN_IF_ERROR(upgrade_pad(graph, node, opset));
      break;
    case OpKind::Clip:
      if (opset < kClipInputs) KILN_RETURN_IF_ERROR(upgrade_clip(graph, node, opset));
      break;
    case OpKind::TopK:
      if (opset < kTopKInput) KILN_RETURN_IF_ERROR(upgrade_topk(graph, node, opset));
      break;
    case OpKind::Dropout:
      if (opset < kDropoutRatioInput) KILN_RETURN_IF_ERROR(upgrade_dropout(graph, node, opset));
      break;
    case OpKind::BatchNormalization:
      KILN_RETURN_IF_ERROR(upgrade_batch_norm(node, opset));
      break;
    case OpKind::Softmax:
    case OpKind::LogSoftmax:
    case OpKind::Hardmax:
      if (opset < kSoftmaxAnyAxis) return emit_coerced_softmax(graph, std::move(node), opset);
      break;
    default:
      if (is_reduce(node.op) && (node.op != OpKind::ReduceSum || opset < kReduceSumAxesInput))
        KILN_RETURN_IF_ERROR(ints_attr_to_input(graph, node, opset, "axes", 1));
      break;
  }
  graph.add_node(node.op, node.name, std::move(node.inputs), std::move(node.outputs), std::move(node.attrs));
  return {};
}

}  // namespace kiln::onnx_import
