#include "passes/fold/constant_folding.h"

#include <string>

#include "passes/graph_rewrite.h"

namespace kiln::passes {
namespace {

bool inputs_are_fixed_constants(const ir::Graph& graph, const ir::Node& node) {
  for (const ir::Value* in : node.inputs())
    if (in && !is_fixed_constant(graph, in)) return false;
  return true;
}

// Declared output shapes let us skip a too-large fold without computing it.
bool declared_too_large(const ir::Node& node, int64_t max_bytes) {
  for (const ir::Value* out : node.outputs()) {
    if (!out || !out->type().shape || out->type().dtype == DType::kUndefined) continue;
    auto bytes = static_cast<int64_t>(dtype_size(out->type().dtype));
    bool known = true;
    for (const ir::Dim& d : *out->type().shape) {
      known = known && d.is_known();
      // Overflow means "certainly too large"; the product is checked before it can wrap.
      if (known && __builtin_mul_overflow(bytes, d.value, &bytes)) return true;
    }
    if (known && bytes > max_bytes) return true;
  }
  return false;
}

// Evaluates `node` and makes its outputs constants; false when it stays in the graph.
Result<bool> try_fold(const ir::Graph& graph, ir::Node& node, const ConstantFoldingOptions& options) {
  if (!inputs_are_fixed_constants(graph, node) || declared_too_large(node, options.max_output_bytes)) return false;
  std::vector<const Tensor*> inputs;
  for (const ir::Value* in : node.inputs()) inputs.push_back(in ? in->constant() : nullptr);
  Result<std::vector<Tensor>> evaluated = options.evaluate(node, inputs);
  // A node that fails on its constant data is left for run time, which reports the error in
  // context (and only if the node is actually reached).
  if (!evaluated.ok()) return false;
  std::vector<Tensor>& results = *evaluated;
  if (results.size() != node.outputs().size())
    return internal_error(node.describe() + ": the constant evaluator returned " + std::to_string(results.size()) +
                          " outputs, expected " + std::to_string(node.outputs().size()));
  for (size_t i = 0; i < results.size(); ++i) {
    const ir::Value* out = node.output(i);
    if (!out) continue;
    const Tensor& t = results[i];
    if (!t.defined())
      return internal_error(node.describe() + ": the constant evaluator did not produce output " + std::to_string(i));
    if (static_cast<int64_t>(t.nbytes()) > options.max_output_bytes) return false;
    const DType declared = out->type().dtype;
    if (declared != DType::kUndefined && declared != t.dtype())
      return internal_error(node.describe() + ": output '" + out->name() + "' is declared " +
                            std::string(dtype_name(declared)) + " but evaluates to " + std::string(dtype_name(t.dtype())));
  }
  for (size_t i = 0; i < results.size(); ++i)
    if (ir::Value* out = node.output(i)) out->set_constant(std::move(results[i]));
  return true;
}

}  // namespace

Result<bool> fold_constants(ir::Graph& graph, const ConstantFoldingOptions& options) {
  if (!options.evaluate) return false;
  std::vector<ir::Node*> folded;
  // Topological order: a node whose inputs were folded just before is folded in the same sweep.
  for (const auto& node : graph.nodes()) {
    KILN_ASSIGN_OR_RETURN(bool fold, try_fold(graph, *node, options));
    if (fold) folded.push_back(node.get());
  }
  for (ir::Node* node : folded) graph.remove_node(node);
  if (folded.empty()) return false;
  graph.remove_unused_values();
  return true;
}

}  // namespace kiln::passes
