#include "ir/text.h"

#include <sstream>

namespace kiln::ir {

std::string to_text(const Graph& graph) {
  std::ostringstream os;
  os << "graph " << (graph.name.empty() ? "main" : graph.name) << " (opset " << graph.opset << ")\n";
  for (const Value* in : graph.inputs()) os << "  input " << in->name() << ": " << in->type().to_string() << '\n';
  for (const auto& v : graph.values())
    if (v->is_constant()) os << "  const " << v->name() << ": " << v->type().to_string() << '\n';
  for (const auto& node : graph.nodes()) {
    os << "  ";
    for (size_t i = 0; i < node->outputs().size(); ++i) {
      const Value* out = node->outputs()[i];
      os << (i ? ", " : "") << (out ? "%" + out->name() + ": " + out->type().to_string() : std::string("_"));
    }
    os << " = " << op_kind_name(node->op()) << '(';
    for (size_t i = 0; i < node->inputs().size(); ++i) {
      const Value* in = node->inputs()[i];
      os << (i ? ", " : "") << (in ? "%" + in->name() : std::string("_"));
    }
    os << ')';
    if (!node->attrs().empty()) os << " {" << node->attrs().to_string() << '}';
    if (!node->name().empty()) os << "  # " << node->name();
    os << '\n';
  }
  for (const Value* out : graph.outputs()) os << "  output %" << out->name() << '\n';
  return os.str();
}

}  // namespace kiln::ir
