#include "backends/cuda/ops/op_adapter.h"

#include <cstring>

#include "kiln/float_types.h"

namespace kiln::cuda {

void AdapterTable::add(OpKind kind, OpAdapter adapter) { adapters_[static_cast<size_t>(kind)] = adapter; }

void AdapterTable::add_by_name(const char* name, OpAdapter adapter) {
  if (const std::optional<OpKind> kind = op_kind_from_name(name)) add(*kind, adapter);
}

const OpAdapter* AdapterTable::find(OpKind kind) const {
  const auto i = static_cast<size_t>(kind);
  if (i >= adapters_.size() || adapters_[i].prepare == nullptr) return nullptr;
  return &adapters_[i];
}

const AdapterTable& adapter_table() {
  static const AdapterTable table = [] {
    AdapterTable t;
    register_elementwise_ops(t);
    register_copy_ops(t);
    register_softmax_ops(t);
    register_layer_norm_ops(t);
    register_matmul_ops(t);
    register_conv_ops(t);
    register_pool_ops(t);
    register_gather_ops(t);
    register_transpose_ops(t);
    register_slice_ops(t);
    register_concat_ops(t);
    register_split_ops(t);
    register_cast_ops(t);
    register_where_ops(t);
    register_logical_ops(t);
    register_expand_ops(t);
    register_attention_ops(t);
    return t;
  }();
  return table;
}

bool is_float_storage(DType dtype) {
  return dtype == DType::kFloat32 || dtype == DType::kFloat16 || dtype == DType::kBFloat16;
}

Status expect(bool condition, const NodeDesc& node, const std::string& what) {
  if (condition) return Status::ok_status();
  return unimplemented(std::string(op_kind_name(node.op)) + ": " + what);
}

Status expect_input(const NodeDesc& node, size_t i) {
  KILN_RETURN_IF_ERROR(expect(i < node.inputs.size() && node.inputs[i].present(), node, "input " + std::to_string(i) + " is missing"));
  return expect(node.inputs[i].shape.checked_numel().has_value(), node, "input " + std::to_string(i) + " needs a static shape");
}

Status expect_float_io(const NodeDesc& node, size_t count) {
  for (size_t i = 0; i < count; ++i) KILN_RETURN_IF_ERROR(expect_input(node, i));
  KILN_RETURN_IF_ERROR(expect(!node.outputs.empty() && node.outputs[0].present(), node, "output 0 is missing"));
  KILN_RETURN_IF_ERROR(expect(node.outputs[0].shape.checked_numel().has_value(), node, "the output needs a static shape"));
  const DType dtype = node.inputs[0].dtype;
  KILN_RETURN_IF_ERROR(expect(is_float_storage(dtype), node, "float32/float16/bfloat16 only, not " + std::string(dtype_name(dtype))));
  return expect(node.outputs[0].dtype == dtype, node, "the output dtype must match the input's");
}

Status expect_single_output(const NodeDesc& node) {
  for (size_t i = 1; i < node.outputs.size(); ++i) {
    KILN_RETURN_IF_ERROR(expect(!node.outputs[i].present(), node, "optional output " + std::to_string(i) + " is not produced"));
  }
  return Status::ok_status();
}

Result<std::vector<int64_t>> constant_ints(const NodeDesc& node, size_t i) {
  const Tensor* t = node.constant(i);
  if (t == nullptr) return unimplemented(std::string(op_kind_name(node.op)) + ": input " + std::to_string(i) + " must be a build-time constant");
  std::vector<int64_t> values(static_cast<size_t>(t->numel()));
  if (t->dtype() == DType::kInt64) {
    for (size_t k = 0; k < values.size(); ++k) values[k] = t->data<int64_t>()[k];
  } else if (t->dtype() == DType::kInt32) {
    for (size_t k = 0; k < values.size(); ++k) values[k] = t->data<int32_t>()[k];
  } else {
    return invalid_argument(std::string(op_kind_name(node.op)) + ": input " + std::to_string(i) + " must be int64 or int32");
  }
  return values;
}

Result<float> constant_scalar(const NodeDesc& node, size_t i) {
  const Tensor* t = node.constant(i);
  if (t == nullptr || t->numel() != 1) {
    return unimplemented(std::string(op_kind_name(node.op)) + ": input " + std::to_string(i) + " must be a constant scalar");
  }
  switch (t->dtype()) {
    case DType::kFloat32: return t->data<float>()[0];
    case DType::kFloat16: return static_cast<float>(t->data<Float16>()[0]);
    case DType::kBFloat16: return static_cast<float>(t->data<BFloat16>()[0]);
    case DType::kFloat64: return static_cast<float>(t->data<double>()[0]);
    default: return unimplemented(std::string(op_kind_name(node.op)) + ": input " + std::to_string(i) + " must be a float scalar");
  }
}

Status expect_args(const ExecuteArgs& args, size_t inputs, size_t outputs) {
  if (args.inputs.size() < inputs || args.outputs.size() < outputs) {
    return invalid_argument("execute: expected " + std::to_string(inputs) + " input and " + std::to_string(outputs) +
                            " output pointers, got " + std::to_string(args.inputs.size()) + " and " + std::to_string(args.outputs.size()));
  }
  for (size_t i = 0; i < outputs; ++i) {
    if (args.outputs[i] == nullptr) return invalid_argument("execute: output " + std::to_string(i) + " is null");
  }
  return Status::ok_status();
}

}  // namespace kiln::cuda
