#include "engine/input_shapes.h"

namespace kiln::engine {
namespace {

std::string list_inputs(const ir::Graph& graph) {
  std::string names;
  for (const ir::Value* in : graph.inputs()) {
    if (in->is_constant()) continue;
    names += (names.empty() ? "'" : ", '") + in->name() + "'";
  }
  return names.empty() ? "none" : names;
}

ir::Value* find_input(const ir::Graph& graph, const std::string& name) {
  for (ir::Value* in : graph.inputs())
    if (in->name() == name && !in->is_constant()) return in;
  return nullptr;
}

}  // namespace

Status fix_input_shapes(ir::Graph& graph, const std::map<std::string, Shape>& shapes) {
  std::map<std::string, int64_t> symbol_values;
  for (const auto& [name, shape] : shapes) {
    ir::Value* input = find_input(graph, name);
    if (!input)
      return invalid_argument("a shape is given for input '" + name + "' but the model has no such input (inputs: " +
                              list_inputs(graph) + ")");
    const std::string requested = shape.to_string();
    if (!shape.is_static()) return invalid_argument("the shape given for input '" + name + "' is not concrete: " + requested);
    ir::ValueType& type = input->mutable_type();
    if (type.shape) {
      const ir::SymShape& declared = *type.shape;
      const std::string declared_text = ir::sym_shape_to_string(declared);
      if (declared.size() != shape.rank())
        return invalid_argument("input '" + name + "' has rank " + std::to_string(declared.size()) + " (" +
                                declared_text + ") but the shape given for it is " + requested);
      for (size_t d = 0; d < declared.size(); ++d) {
        if (declared[d].is_known() && declared[d].value != shape[d])
          return invalid_argument("input '" + name + "' has static shape " + declared_text + ": dim " +
                                  std::to_string(d) + " is " + std::to_string(declared[d].value) +
                                  " but the shape given for it is " + requested);
        if (!declared[d].is_known() && !declared[d].symbol.empty()) {
          auto [it, inserted] = symbol_values.emplace(declared[d].symbol, shape[d]);
          if (!inserted && it->second != shape[d])
            return invalid_argument("dim '" + declared[d].symbol + "' is given as both " + std::to_string(it->second) +
                                    " and " + std::to_string(shape[d]) + " (input '" + name + "')");
        }
      }
    }
    type.shape = ir::sym_shape_from(shape);
  }
  for (ir::Value* in : graph.inputs()) {
    if (shapes.count(in->name()) || !in->type().shape) continue;
    for (ir::Dim& d : *in->mutable_type().shape) {
      auto it = d.is_known() ? symbol_values.end() : symbol_values.find(d.symbol);
      if (it != symbol_values.end()) d = ir::Dim::known(it->second);
    }
  }
  return {};
}

}  // namespace kiln::engine
