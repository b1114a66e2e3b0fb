#include "ir/verifier.h"

#include <set>
#include <unordered_set>

#include "ir/op_schema.h"

namespace kiln::ir {
Status verify(const Graph& graph) {
  std::set<std::string> names;
  for (const auto& v : graph.values())
    if (!names.insert(v->name()).second) return invalid_argument("value name '" + v->name() + "' is used twice");

  std::unordered_set<const Value*> available;
  for (const Value* in : graph.inputs()) available.insert(in);
  for (const auto& v : graph.values())
    if (v->is_constant()) available.insert(v.get());

  for (const auto& node_ptr : graph.nodes()) {
    const Node& node = *node_ptr;
    const OpSchema* schema = find_schema(node.op());
    if (!schema) return internal_error(node.describe() + ": op has no schema");
    KILN_RETURN_IF_ERROR(check_node_arity(node, *schema));
    for (const Value* in : node.inputs()) {
      if (!in) continue;
      if (!available.count(in))
        return invalid_argument(node.describe() + " reads '" + in->name() +
                                "' before any node produces it (not a graph input or initializer either)");
      if (in->type().dtype == DType::kUndefined)
        return invalid_argument(node.describe() + " reads '" + in->name() + "' whose dtype is unknown");
    }
    for (size_t i = 0; i < node.outputs().size(); ++i) {
      const Value* out = node.outputs()[i];
      if (!out) continue;
      if (out->producer() != &node)
        return invalid_argument("value '" + out->name() + "' is produced by more than one node");
      if (!available.insert(out).second)
        return invalid_argument("value '" + out->name() + "' is produced twice (by " + node.describe() + ")");
    }
  }
  for (const Value* out : graph.outputs())
    if (!available.count(out)) return invalid_argument("graph output '" + out->name() + "' is never produced");
  return {};
}

}  // namespace kiln::ir
