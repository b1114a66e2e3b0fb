#include "passes/precision/lower_float_precision.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <utility>

#include "core/dtype_dispatch.h"
#include "core/onnx_dtype.h"
#include "ir/shape_inference.h"
#include "passes/graph_rewrite.h"

namespace kiln::passes {
namespace {

// Inputs whose type ONNX fixes to float32 whatever the data type (not "T"): they keep float32.
bool input_must_stay_float32(OpKind op, size_t input) {
  return (op == OpKind::Resize && input == 2) ||   // scales
         (op == OpKind::Dropout && input == 1);     // ratio
}

// Finite float32 constants beyond float16's range saturate to its largest finite value instead of
// becoming infinity: exported attention masks use float32's lowest value as "minus infinity" and
// multiply it by 0 for the positions they keep, and 0 * inf would be NaN where -65504 is 0.
float saturate_to_half_range(float v) {
  constexpr float kHalfMax = 65504.0F;
  if (!std::isfinite(v)) return v;
  return std::clamp(v, -kHalfMax, kHalfMax);
}

Tensor convert_tensor(const Tensor& t, DType target) {
  Tensor out(target, t.shape());
  const float* src = t.data<float>();
  const int64_t n = t.numel();
  if (target == DType::kFloat16) {
    auto* dst = out.data<Float16>();
    for (int64_t i = 0; i < n; ++i) dst[i] = Float16(saturate_to_half_range(src[i]));
  } else {
    auto* dst = out.data<BFloat16>();
    for (int64_t i = 0; i < n; ++i) dst[i] = BFloat16(src[i]);
  }
  return out;
}

ir::Node* add_cast(ir::Graph& graph, ir::Value* from, ir::Value* to, DType dtype) {
  ir::Node* cast = graph.add_node(OpKind::Cast, to->name() + "_cast", {from}, {to});
  cast->mutable_attrs().set("to", static_cast<int64_t>(onnx_from_dtype(dtype)));
  return cast;
}

}  // namespace

Result<bool> lower_float_precision(ir::Graph& graph, DType target, FloatInterface interface) {
  if (target != DType::kFloat16 && target != DType::kBFloat16)
    return invalid_argument("precision lowering targets float16 or bfloat16, not " + std::string(dtype_name(target)));
  const std::string suffix = target == DType::kFloat16 ? "_fp16" : "_bf16";
  bool changed = false;

  // Values read where float32 is required keep their type (and their data).
  std::set<const ir::Value*> keep;
  for (const auto& node : graph.nodes())
    for (size_t i = 0; i < node->inputs().size(); ++i)
      if (node->input(i) && input_must_stay_float32(node->op(), i)) keep.insert(node->input(i));

  const bool lower_interface = interface == FloatInterface::kLower;
  // Float32 graph inputs: the engine takes float32 and casts once at the start (or, lowering
  // the interface, takes the target type itself: the loop over values below converts it).
  for (ir::Value* in : std::vector<ir::Value*>(graph.inputs())) {
    if (lower_interface || in->type().dtype != DType::kFloat32 || in->is_constant() || keep.count(in)) continue;
    ir::Value* low = graph.add_value(in->name() + suffix);
    low->set_type({target, in->type().shape});
    replace_node_uses(graph, in, low);
    add_cast(graph, in, low, target);
    changed = true;
  }
  // Float32 graph outputs: computed in the target type, cast back at the end.
  for (ir::Value*& out : graph.mutable_outputs()) {
    if (lower_interface || out->type().dtype != DType::kFloat32 || is_graph_input(graph, out) || out->is_constant())
      continue;
    ir::Node* producer = out->producer();
    if (!producer) continue;
    ir::Value* low = graph.add_value(out->name() + suffix);
    low->set_type({target, out->type().shape});
    replace_node_uses(graph, out, low);
    replace_node_output(graph, producer, static_cast<size_t>(out->producer_output()), low);
    add_cast(graph, low, out, DType::kFloat32);
    changed = true;
  }
  // Everything else that is float32: weights convert, activations change type, Casts to float32
  // become Casts to the target.
  for (const auto& value : graph.values()) {
    ir::Value* v = value.get();
    if (v->type().dtype != DType::kFloat32 || keep.count(v)) continue;
    if (!lower_interface && (is_graph_input(graph, v) || is_graph_output(graph, v))) continue;
    if (v->is_constant()) v->set_constant(convert_tensor(*v->constant(), target));
    v->mutable_type().dtype = target;
    changed = true;
  }
  const auto float32_onnx = static_cast<int64_t>(onnx_from_dtype(DType::kFloat32));
  for (const auto& node : graph.nodes()) {
    if (node->op() != OpKind::Cast || node->attrs().get_int("to", 0) != float32_onnx) continue;
    if (!lower_interface && node->output(0) && is_graph_output(graph, node->output(0))) continue;
    node->mutable_attrs().set("to", static_cast<int64_t>(onnx_from_dtype(target)));
    changed = true;
  }
  for (const auto& node : graph.nodes()) {
    if (node->op() != OpKind::ConstantOfShape) continue;
    const Tensor* fill = node->attrs().get_tensor("value");
    if (fill && fill->dtype() == DType::kFloat32 && (lower_interface || !is_graph_output(graph, node->output(0))))
      node->mutable_attrs().set("value", convert_tensor(*fill, target));
  }
  if (!changed) return false;
  KILN_RETURN_IF_ERROR(graph.sort_topologically());
  KILN_RETURN_IF_ERROR(ir::infer_shapes(graph));
  return true;
}

}  // namespace kiln::passes
