#include "ir/shape_inference.h"

#include "ir/op_schema.h"

namespace kiln::ir {

Result<ValueType> merge_value_types(const ValueType& declared, const ValueType& inferred,
                                    const std::string& value_name) {
  ValueType out = inferred;
  if (out.dtype == DType::kUndefined) out.dtype = declared.dtype;
  if (declared.dtype != DType::kUndefined && out.dtype != declared.dtype)
    return invalid_argument("value '" + value_name + "' is declared " + std::string(dtype_name(declared.dtype)) +
                            " but computes " + std::string(dtype_name(out.dtype)));
  if (!declared.shape) return out;
  if (!out.shape) {
    out.shape = declared.shape;
    return out;
  }
  if (out.shape->size() != declared.shape->size())
    return invalid_argument("value '" + value_name + "' is declared with shape " +
                            sym_shape_to_string(*declared.shape) + " but computes " +
                            sym_shape_to_string(*out.shape));
  for (size_t i = 0; i < out.shape->size(); ++i) {
    Dim& d = (*out.shape)[i];
    const Dim& decl = (*declared.shape)[i];
    if (d.is_known() && decl.is_known() && d.value != decl.value)
      return invalid_argument("value '" + value_name + "' is declared with shape " +
                              sym_shape_to_string(*declared.shape) + " but computes " +
                              sym_shape_to_string(*out.shape));
    if (!d.is_known()) {
      if (decl.is_known()) d = decl;
      else if (d.symbol.empty()) d.symbol = decl.symbol;
    }
  }
  return out;
}

Status infer_shapes(Graph& graph) {
  for (const auto& node_ptr : graph.nodes()) {
    Node& node = *node_ptr;
    const OpSchema* schema = find_schema(node.op());
    if (!schema) return internal_error(node.describe() + ": op has no schema");
    KILN_RETURN_IF_ERROR(check_node_arity(node, *schema));
    InferContext ctx(node);
    KILN_RETURN_IF_ERROR(schema->infer(ctx));
    for (size_t i = 0; i < node.outputs().size(); ++i) {
      Value* out = node.outputs()[i];
      if (!out) continue;
      KILN_ASSIGN_OR_RETURN(ValueType merged, merge_value_types(out->type(), ctx.outputs()[i], out->name()));
      out->set_type(std::move(merged));
    }
  }
  return {};
}

}  // namespace kiln::ir
