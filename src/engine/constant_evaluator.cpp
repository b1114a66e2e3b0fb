#include "engine/constant_evaluator.h"

#include <string>
#include <utility>

#include "backends/reference/kernel.h"

namespace kiln::engine {

passes::NodeEvaluator reference_node_evaluator() {
  return [](const ir::Node& node, const std::vector<const Tensor*>& inputs) -> Result<std::vector<Tensor>> {
    reference::KernelFn kernel = reference::find_kernel(node.op());
    if (!kernel) return unimplemented(node.describe() + ": no reference kernel to evaluate it");
    reference::KernelContext ctx;
    ctx.op = node.op();
    ctx.attrs = &node.attrs();
    ctx.inputs = inputs;
    ctx.outputs.assign(node.outputs().size(), Tensor());
    ctx.output_wanted.assign(node.outputs().size(), false);
    for (size_t i = 0; i < node.outputs().size(); ++i) ctx.output_wanted[i] = node.output(i) != nullptr;
    Status status = kernel(ctx);
    if (!status.ok()) return status.with_context(node.describe());
    return std::move(ctx.outputs);
  };
}

}  // namespace kiln::engine
