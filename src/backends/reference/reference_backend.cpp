#include "backends/reference/reference_backend.h"

#include <cstring>

#include "backends/reference/kernel.h"

namespace kiln::backends {
namespace {

class ReferenceKernel final : public Kernel {
 public:
  ReferenceKernel(const NodeDesc& node, reference::KernelFn fn)
      : op_(node.op), name_(node.name), attributes_(node.attrs()), inputs_(node.inputs), outputs_(node.outputs), fn_(fn) {}

  Status execute(const ExecuteArgs& args) const override {
    if (args.inputs.size() != inputs_.size() || args.outputs.size() != outputs_.size())
      return internal_error(name_ + ": reference kernel called with " + std::to_string(args.inputs.size()) +
                            " inputs and " + std::to_string(args.outputs.size()) + " outputs");
    std::vector<Tensor> wrapped(inputs_.size());
    reference::KernelContext ctx;
    ctx.op = op_;
    ctx.attrs = &attributes_;
    for (size_t i = 0; i < inputs_.size(); ++i) {
      if (!inputs_[i].present() || !args.inputs[i]) {
        ctx.inputs.push_back(nullptr);
        continue;
      }
      // The kernel only reads its inputs; Tensor has no const view, hence the cast.
      wrapped[i] = Tensor::wrap(inputs_[i].dtype, inputs_[i].shape, nullptr, const_cast<void*>(args.inputs[i]));
      ctx.inputs.push_back(&wrapped[i]);
    }
    ctx.outputs.assign(outputs_.size(), Tensor());
    ctx.output_wanted.assign(outputs_.size(), false);
    for (size_t i = 0; i < outputs_.size(); ++i) ctx.output_wanted[i] = args.outputs[i] != nullptr;
    KILN_RETURN_IF_ERROR(fn_(ctx).with_context(name_));
    for (size_t i = 0; i < outputs_.size(); ++i) {
      if (!args.outputs[i]) continue;
      const Tensor& t = ctx.outputs[i];
      if (t.dtype() != outputs_[i].dtype || t.shape() != outputs_[i].shape)
        return internal_error(name_ + ": output " + std::to_string(i) + " is " + std::string(dtype_name(t.dtype())) +
                              t.shape().to_string() + " but the plan expects " +
                              std::string(dtype_name(outputs_[i].dtype)) + outputs_[i].shape.to_string());
      if (t.nbytes()) std::memcpy(args.outputs[i], t.raw_data(), t.nbytes());
    }
    return {};
  }

  std::string describe() const override { return "reference"; }

 private:
  OpKind op_;
  std::string name_;
  Attributes attributes_;
  std::vector<TensorDesc> inputs_;
  std::vector<TensorDesc> outputs_;
  reference::KernelFn fn_;
};

class ReferenceBackend final : public Backend {
 public:
  std::string_view name() const override { return "reference"; }
  DeviceKind device() const override { return DeviceKind::kHost; }

  bool supports(const NodeDesc& node) const override {
    if (!reference::find_kernel(node.op)) return false;
    // Strings have no flat buffer to plan.
    for (const TensorDesc& d : node.inputs)
      if (d.dtype == DType::kBytes) return false;
    for (const TensorDesc& d : node.outputs)
      if (d.dtype == DType::kBytes) return false;
    return true;
  }

  Result<std::unique_ptr<Kernel>> prepare(const NodeDesc& node, int32_t tactic) const override {
    if (tactic != 0) return invalid_argument(node.name + ": the reference backend has no tactic " + std::to_string(tactic));
    reference::KernelFn fn = reference::find_kernel(node.op);
    if (!fn) return unimplemented(node.name + ": no reference kernel for " + std::string(op_kind_name(node.op)));
    return std::unique_ptr<Kernel>(new ReferenceKernel(node, fn));
  }
};

}  // namespace

const Backend& reference_backend() {
  static const ReferenceBackend backend;
  return backend;
}

}  // namespace kiln::backends
