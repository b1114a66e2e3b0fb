// Unary math/activations and broadcasting binary arithmetic. Pow with a constant scalar
// exponent (x^2 and x^0.5 in LayerNorm decompositions) runs as a unary op.
#include <optional>

#include "backends/cuda/kernels/elementwise.h"
#include "core/broadcast.h"
#include "backends/cuda/ops/op_adapter.h"

namespace kiln::cuda {
namespace {

constexpr float kLeakyReluDefaultAlpha = 0.01f;

struct UnaryChoice {
  UnaryOp op = UnaryOp::kIdentity;
  UnaryParams params;
};

Result<UnaryChoice> unary_choice(const NodeDesc& node) {
  const Attributes& a = node.attrs();
  switch (node.op) {
    case OpKind::Relu: return UnaryChoice{UnaryOp::kRelu};
    case OpKind::Sigmoid: return UnaryChoice{UnaryOp::kSigmoid};
    case OpKind::Tanh: return UnaryChoice{UnaryOp::kTanh};
    case OpKind::Erf: return UnaryChoice{UnaryOp::kErf};
    case OpKind::Sqrt: return UnaryChoice{UnaryOp::kSqrt};
    case OpKind::Exp: return UnaryChoice{UnaryOp::kExp};
    case OpKind::HardSwish: return UnaryChoice{UnaryOp::kHardSwish};
    case OpKind::Gelu: {
      const std::string approximate = a.get_string("approximate", "none");
      if (approximate == "none") return UnaryChoice{UnaryOp::kGeluErf};
      if (approximate == "tanh") return UnaryChoice{UnaryOp::kGeluTanh};
      return invalid_argument("Gelu: approximate must be 'none' or 'tanh', got '" + approximate + "'");
    }
    case OpKind::LeakyRelu: return UnaryChoice{UnaryOp::kLeakyRelu, {a.get_float("alpha", kLeakyReluDefaultAlpha), 0.0f}};
    case OpKind::Clip: {
      UnaryChoice c{UnaryOp::kClip, {-INFINITY, INFINITY}};
      if (node.inputs.size() > 1 && node.inputs[1].present()) {
        KILN_ASSIGN_OR_RETURN(c.params.alpha, constant_scalar(node, 1));
      }
      if (node.inputs.size() > 2 && node.inputs[2].present()) {
        KILN_ASSIGN_OR_RETURN(c.params.beta, constant_scalar(node, 2));
      }
      return c;
    }
    case OpKind::Pow: {
      KILN_ASSIGN_OR_RETURN(const float exponent, constant_scalar(node, 1));
      return UnaryChoice{UnaryOp::kPowScalar, {exponent, 0.0f}};
    }
    default: return unimplemented("not a unary op");
  }
}

std::optional<BinaryOp> binary_op(OpKind op) {
  switch (op) {
    case OpKind::Add: return BinaryOp::kAdd;
    case OpKind::Sub: return BinaryOp::kSub;
    case OpKind::Mul: return BinaryOp::kMul;
    case OpKind::Div: return BinaryOp::kDiv;
    case OpKind::Pow: return BinaryOp::kPow;
    default: return std::nullopt;
  }
}

// Pow whose exponent is a known scalar is unary; any other Pow is binary.
bool is_scalar_pow(const NodeDesc& node) {
  return node.op == OpKind::Pow && node.constant(1) != nullptr && node.constant(1)->numel() == 1;
}

Status check_unary(const CudaContext&, const NodeDesc& node) {
  KILN_RETURN_IF_ERROR(expect_float_io(node, 1));
  KILN_RETURN_IF_ERROR(expect(node.inputs[0].shape == node.outputs[0].shape, node, "the output shape must match the input's"));
  return unary_choice(node).status();
}

Result<std::unique_ptr<Kernel>> prepare_unary(const CudaContext&, const NodeDesc& node, int32_t) {
  KILN_ASSIGN_OR_RETURN(const UnaryChoice choice, unary_choice(node));
  const DType dtype = node.inputs[0].dtype;
  const int64_t n = node.outputs[0].shape.numel();
  return make_kernel("unary elementwise", 0, [=](const ExecuteArgs& args) {
    KILN_RETURN_IF_ERROR(expect_args(args, 1, 1));
    return unary_elementwise(choice.op, dtype, args.inputs[0], args.outputs[0], n, stream_of(args), choice.params);
  });
}

Status check_binary(const CudaContext& context, const NodeDesc& node) {
  if (is_scalar_pow(node)) return check_unary(context, node);
  KILN_RETURN_IF_ERROR(expect_float_io(node, 2));
  KILN_RETURN_IF_ERROR(expect(node.inputs[1].dtype == node.inputs[0].dtype, node, "both inputs must have the same dtype"));
  KILN_RETURN_IF_ERROR(expect(static_cast<int>(node.outputs[0].shape.rank()) <= kMaxBroadcastRank, node, "rank above 8"));
  KILN_ASSIGN_OR_RETURN(const Shape broadcast, broadcast_shapes(node.inputs[0].shape, node.inputs[1].shape));
  return expect(broadcast == node.outputs[0].shape, node, "the output shape is not the inputs' broadcast");
}

Result<std::unique_ptr<Kernel>> prepare_binary(const CudaContext& context, const NodeDesc& node, int32_t tactic) {
  if (is_scalar_pow(node)) return prepare_unary(context, node, tactic);
  const BinaryOp op = *binary_op(node.op);
  const DType dtype = node.inputs[0].dtype;
  const Shape a = node.inputs[0].shape, b = node.inputs[1].shape, out = node.outputs[0].shape;
  return make_kernel("binary broadcast", 0, [=](const ExecuteArgs& args) {
    KILN_RETURN_IF_ERROR(expect_args(args, 2, 1));
    return binary_broadcast(op, dtype, args.inputs[0], a, args.inputs[1], b, args.outputs[0], out, stream_of(args));
  });
}

}  // namespace


void register_elementwise_ops(AdapterTable& table) {
  const OpAdapter unary{check_unary, nullptr, prepare_unary};
  for (OpKind op : {OpKind::Relu, OpKind::Sigmoid, OpKind::Tanh, OpKind::Erf, OpKind::Sqrt, OpKind::Exp, OpKind::HardSwish,
                    OpKind::Gelu, OpKind::LeakyRelu, OpKind::Clip}) {
    table.add(op, unary);
  }
  const OpAdapter binary{check_binary, nullptr, prepare_binary};
  for (OpKind op : {OpKind::Add, OpKind::Sub, OpKind::Mul, OpKind::Div, OpKind::Pow}) table.add(op, binary);
}

}  // namespace kiln::cuda
