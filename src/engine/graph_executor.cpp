#include "engine/graph_executor.h"

#include <set>

#include "backends/reference/kernel.h"

namespace kiln::engine {

TensorInfo tensor_info_of(const ir::Value& value) {
  TensorInfo info;
  info.name = value.name();
  info.dtype = value.type().dtype;
  info.rank_known = value.type().shape.has_value();
  info.has_default = value.is_constant();
  if (value.type().shape) {
    for (const ir::Dim& d : *value.type().shape) {
      info.dims.push_back(d.value);
      info.dim_names.push_back(d.symbol);
    }
  }
  return info;
}

GraphExecutor::GraphExecutor(ir::Graph graph) : graph_(std::move(graph)) {
  for (const auto& v : graph_.values()) slot_of_.emplace(v.get(), slot_of_.size());
  // Free each intermediate after its last reader; graph outputs and constants are kept.
  std::map<const ir::Value*, size_t> last_reader;
  for (size_t i = 0; i < graph_.nodes().size(); ++i)
    for (const ir::Value* in : graph_.nodes()[i]->inputs())
      if (in) last_reader[in] = i;
  std::set<const ir::Value*> keep(graph_.outputs().begin(), graph_.outputs().end());
  release_after_.resize(graph_.nodes().size());
  for (const auto& [value, node_index] : last_reader)
    if (!keep.count(value) && !value->is_constant()) release_after_[node_index].push_back(slot_of_.at(value));
}

Result<std::unique_ptr<GraphExecutor>> GraphExecutor::create(ir::Graph graph) {
  std::set<std::string> missing;
  for (const auto& node : graph.nodes())
    if (!reference::find_kernel(node->op())) missing.insert(std::string(op_kind_name(node->op())));
  if (!missing.empty()) {
    std::string list;
    for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
    return unimplemented("no reference kernel for: " + list);
  }
  return std::unique_ptr<GraphExecutor>(new GraphExecutor(std::move(graph)));
}

Status GraphExecutor::check_inputs(const std::map<std::string, Tensor>& inputs) const {
  std::set<std::string> known;
  std::map<std::string, int64_t> symbol_sizes;
  for (const ir::Value* in : graph_.inputs()) {
    known.insert(in->name());
    auto it = inputs.find(in->name());
    if (it == inputs.end()) {
      if (in->is_constant()) continue;  // an initializer that may be overridden
      return invalid_argument("input '" + in->name() + "' is missing");
    }
    const Tensor& t = it->second;
    const ir::ValueType& type = in->type();
    if (t.dtype() != type.dtype)
      return invalid_argument("input '" + in->name() + "' must be " + std::string(dtype_name(type.dtype)) +
                              ", got " + std::string(dtype_name(t.dtype())));
    if (!type.shape) continue;
    const ir::SymShape& shape = *type.shape;
    std::string expected = ir::sym_shape_to_string(shape);
    if (t.rank() != shape.size())
      return invalid_argument("input '" + in->name() + "' must have shape " + expected + ", got " +
                              t.shape().to_string() + " (rank " + std::to_string(t.rank()) + ")");
    for (size_t d = 0; d < shape.size(); ++d) {
      int64_t got = t.shape()[d];
      if (shape[d].is_known() && shape[d].value != got)
        return invalid_argument("input '" + in->name() + "' must have shape " + expected + ", got " +
                                t.shape().to_string() + " (dim " + std::to_string(d) + ")");
      if (!shape[d].is_known() && !shape[d].symbol.empty()) {
        auto [sym, inserted] = symbol_sizes.emplace(shape[d].symbol, got);
        if (!inserted && sym->second != got)
          return invalid_argument("input '" + in->name() + "' dim " + std::to_string(d) + " ('" + shape[d].symbol +
                                  "') is " + std::to_string(got) + " but another input set it to " +
                                  std::to_string(sym->second));
      }
    }
  }
  for (const auto& [name, tensor] : inputs)
    if (!known.count(name)) {
      std::string names;
      for (const ir::Value* in : graph_.inputs()) names += (names.empty() ? "" : ", ") + in->name();
      return invalid_argument("unknown input '" + name + "' (the model's inputs are: " + names + ")");
    }
  return {};
}

Result<std::vector<Tensor>> GraphExecutor::run(const std::map<std::string, Tensor>& inputs) const {
  KILN_RETURN_IF_ERROR(check_inputs(inputs));
  std::vector<Tensor> slots(slot_of_.size());
  for (const auto& v : graph_.values())
    if (v->is_constant()) slots[slot_of_.at(v.get())] = *v->constant();
  for (const ir::Value* in : graph_.inputs()) {
    auto it = inputs.find(in->name());
    if (it != inputs.end()) slots[slot_of_.at(in)] = it->second;
  }

  reference::KernelContext ctx;
  for (size_t n = 0; n < graph_.nodes().size(); ++n) {
    const ir::Node& node = *graph_.nodes()[n];
    ctx.op = node.op();
    ctx.attrs = &node.attrs();
    ctx.inputs.clear();
    for (const ir::Value* in : node.inputs()) ctx.inputs.push_back(in ? &slots[slot_of_.at(in)] : nullptr);
    ctx.outputs.assign(node.outputs().size(), Tensor());
    ctx.output_wanted.assign(node.outputs().size(), false);
    for (size_t i = 0; i < node.outputs().size(); ++i) ctx.output_wanted[i] = node.outputs()[i] != nullptr;

    Status status = reference::find_kernel(node.op())(ctx);
    if (!status.ok()) return status.with_context(node.describe());
    for (size_t i = 0; i < node.outputs().size(); ++i) {
      const ir::Value* out = node.outputs()[i];
      if (!out) continue;
      Tensor& t = ctx.outputs[i];
      if (!t.defined())
        return internal_error(node.describe() + ": the reference kernel did not produce output " + std::to_string(i));
      DType expected = out->type().dtype;
      if (expected != DType::kUndefined && t.dtype() != expected)
        return internal_error(node.describe() + ": output '" + out->name() + "' should be " +
                              std::string(dtype_name(expected)) + " but the kernel produced " +
                              std::string(dtype_name(t.dtype())));
      slots[slot_of_.at(out)] = std::move(t);
    }
    for (size_t slot : release_after_[n]) slots[slot] = Tensor();
  }

  std::vector<Tensor> outputs;
  outputs.reserve(graph_.outputs().size());
  for (const ir::Value* out : graph_.outputs()) outputs.push_back(slots[slot_of_.at(out)]);
  return outputs;
}

}  // namespace kiln::engine
