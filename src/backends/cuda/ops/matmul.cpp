// MatMul, Gemm and FusedMatMul through one cuBLASLt plan each. Batch dims are supported when
// they fold into M (a 2-D weight), match on both sides, or broadcast a 2-D left operand; the
// bias (when a build-time constant) and ReLU / GELU(tanh) run in cuBLASLt's epilogue, any other
// activation in the bias_activation kernel after it. A residual Z is cuBLASLt's C (beta = 1).
#include <memory>

#include "backends/cuda/device_buffer.h"
#include "backends/cuda/kernels/elementwise.h"
#include "backends/cuda/ops/fused_activation.h"
#include "backends/cuda/ops/op_adapter.h"
#include "backends/cuda/vendor/cublaslt_matmul.h"

namespace kiln::cuda {
namespace {

constexpr size_t kResidualInput = 3;  // FusedMatMul's Z

// Everything prepare derives from the node.
struct MatmulProblem {
  MatmulShape shape;
  bool has_bias = false;
  size_t bias_input = 0;
  bool has_residual = false;
  ActivationChoice activation;
};

int64_t product(const std::vector<int64_t>& dims, size_t begin, size_t end) {
  int64_t n = 1;
  for (size_t d = begin; d < end; ++d) n *= dims[d];
  return n;
}

bool all_ones(const std::vector<int64_t>& dims, size_t end) {
  for (size_t d = 0; d < end; ++d) {
    if (dims[d] != 1) return false;
  }
  return true;
}

// A [..., M, K] times B [..., K, N] (B [..., N, K] when trans_b) with MatMul broadcasting.
Result<MatmulShape> batched_shape(const NodeDesc& node, bool trans_b) {
  const std::vector<int64_t>& a = node.inputs[0].shape.dims();
  const std::vector<int64_t>& b = node.inputs[1].shape.dims();
  KILN_RETURN_IF_ERROR(expect(a.size() >= 2 && b.size() >= 2, node, "1-D operands are not supported"));
  MatmulShape s;
  s.m = a[a.size() - 2];
  s.k = a[a.size() - 1];
  s.n = trans_b ? b[b.size() - 2] : b[b.size() - 1];
  s.trans_b = trans_b;
  const int64_t b_k = trans_b ? b[b.size() - 1] : b[b.size() - 2];
  KILN_RETURN_IF_ERROR(expect(b_k == s.k, node, "inner dimensions differ"));
  const size_t a_batch_rank = a.size() - 2, b_batch_rank = b.size() - 2;
  const int64_t a_batch = product(a, 0, a_batch_rank), b_batch = product(b, 0, b_batch_rank);
  if (b_batch == 1) {
    s.m *= a_batch;  // a weight: A's batch rows are just more rows
  } else if (a_batch == 1 && all_ones(a, a_batch_rank)) {
    s.batch = b_batch;
    s.batch_stride_a = 0;
    s.batch_stride_b = s.k * s.n;
    s.batch_stride_c = s.m * s.n;
  } else {
    const std::vector<int64_t> a_dims(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(a_batch_rank));
    const std::vector<int64_t> b_dims(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(b_batch_rank));
    KILN_RETURN_IF_ERROR(expect(a_dims == b_dims, node, "batch dims must match, broadcast a 2-D weight, or broadcast a 2-D A"));
    s.batch = a_batch;
    s.batch_stride_a = s.m * s.k;
    s.batch_stride_b = s.k * s.n;
    s.batch_stride_c = s.m * s.n;
  }
  const int64_t out_elems = node.outputs[0].shape.numel();
  KILN_RETURN_IF_ERROR(expect(out_elems == s.batch * s.m * s.n, node, "the output shape does not match the product"));
  return s;
}

Result<MatmulProblem> problem_of(const NodeDesc& node) {
  KILN_RETURN_IF_ERROR(expect_float_io(node, 2));
  KILN_RETURN_IF_ERROR(expect(node.inputs[1].dtype == node.inputs[0].dtype, node, "A and B must share a dtype"));
  MatmulProblem p;
  if (node.op == OpKind::Gemm) {
    const Attributes& attrs = node.attrs();
    KILN_RETURN_IF_ERROR(expect(node.inputs[0].shape.rank() == 2 && node.inputs[1].shape.rank() == 2, node, "2-D operands"));
    KILN_RETURN_IF_ERROR(expect(attrs.get_float("alpha", 1.0f) == 1.0f, node, "alpha other than 1"));
    const bool trans_a = attrs.get_int("transA", 0) != 0, trans_b = attrs.get_int("transB", 0) != 0;
    const Shape& a = node.inputs[0].shape;
    const Shape& b = node.inputs[1].shape;
    p.shape.trans_a = trans_a;
    p.shape.trans_b = trans_b;
    p.shape.m = trans_a ? a[1] : a[0];
    p.shape.k = trans_a ? a[0] : a[1];
    p.shape.n = trans_b ? b[0] : b[1];
    KILN_RETURN_IF_ERROR(expect((trans_b ? b[1] : b[0]) == p.shape.k, node, "inner dimensions differ"));
    KILN_RETURN_IF_ERROR(expect(node.outputs[0].shape.numel() == p.shape.m * p.shape.n, node, "output shape"));
    if (node.inputs.size() > 2 && node.inputs[2].present()) {
      KILN_RETURN_IF_ERROR(expect(attrs.get_float("beta", 1.0f) == 1.0f, node, "beta other than 1"));
      KILN_RETURN_IF_ERROR(expect(node.inputs[2].shape.numel() == p.shape.n && node.inputs[2].shape.rank() <= 2 &&
                                      (node.inputs[2].shape.rank() < 2 || node.inputs[2].shape[0] == 1),
                                  node, "C must be a bias of N values"));
      p.has_bias = true;
      p.bias_input = 2;
    }
  } else {
    const bool trans_b = node.op != OpKind::MatMul && node.attrs().get_int("trans_b", 0) != 0;
    KILN_ASSIGN_OR_RETURN(p.shape, batched_shape(node, trans_b));
    if (node.op != OpKind::MatMul) {
      KILN_ASSIGN_OR_RETURN(p.activation, fused_activation(node.attrs()));
      if (node.inputs.size() > 2 && node.inputs[2].present()) {
        KILN_RETURN_IF_ERROR(expect(node.inputs[2].shape.numel() == p.shape.n, node, "the bias must hold N values"));
        p.has_bias = true;
        p.bias_input = 2;
      }
      if (node.inputs.size() > kResidualInput && node.inputs[kResidualInput].present()) {
        const TensorDesc& z = node.inputs[kResidualInput];
        KILN_RETURN_IF_ERROR(expect(z.dtype == node.inputs[0].dtype && z.shape == node.outputs[0].shape, node,
                                    "the residual Z must have the output's shape and dtype"));
        p.has_residual = true;
      }
    }
  }
  if (p.has_bias) KILN_RETURN_IF_ERROR(expect(node.inputs[p.bias_input].dtype == node.inputs[0].dtype, node, "bias dtype"));
  return p;
}

MatmulPrecision precision_of(const CudaContext& context, const NodeDesc& node) {
  switch (node.inputs[0].dtype) {
    case DType::kFloat16: return MatmulPrecision::kFloat16;
    case DType::kBFloat16: return MatmulPrecision::kBFloat16;
    default:
      return context.options.allow_tf32 || node.allow_tf32 ? MatmulPrecision::kTF32 : MatmulPrecision::kFloat32;
  }
}

// What cuBLASLt's epilogue does and what is left for bias_activation.
struct EpiloguePlan {
  MatmulEpilogue epilogue = MatmulEpilogue::kNone;
  bool bias_in_epilogue = false;
  bool activation_in_epilogue = false;
};

EpiloguePlan epilogue_plan(const MatmulProblem& p, bool bias_constant) {
  EpiloguePlan e;
  e.bias_in_epilogue = p.has_bias && bias_constant;
  const UnaryOp op = p.activation.op;
  const bool lt_activation = op == UnaryOp::kRelu || op == UnaryOp::kGeluTanh;
  // An activation after a bias must stay after it: fuse it only when the bias is fused too.
  e.activation_in_epilogue = lt_activation && (!p.has_bias || e.bias_in_epilogue);
  if (e.bias_in_epilogue) {
    e.epilogue = !e.activation_in_epilogue ? MatmulEpilogue::kBias : op == UnaryOp::kRelu ? MatmulEpilogue::kBiasRelu : MatmulEpilogue::kBiasGelu;
  } else if (e.activation_in_epilogue) {
    e.epilogue = op == UnaryOp::kRelu ? MatmulEpilogue::kRelu : MatmulEpilogue::kGelu;
  }
  return e;
}

Status check_matmul(const CudaContext&, const NodeDesc& node) { return problem_of(node).status(); }

// The bias pointer only has to be non-null for the heuristic query; the plan is never run.
const void* const kQueryOnlyBias = &kQueryOnlyBias;

Result<std::vector<Tactic>> matmul_tactics(const CudaContext& context, const NodeDesc& node) {
  KILN_ASSIGN_OR_RETURN(const MatmulProblem p, problem_of(node));
  const EpiloguePlan e = epilogue_plan(p, p.has_bias && node.constant(p.bias_input) != nullptr);
  KILN_ASSIGN_OR_RETURN(MatmulPlan plan, MatmulPlan::create(*context.cublaslt, precision_of(context, node), e.epilogue,
                                                            p.shape, kQueryOnlyBias));
  std::vector<Tactic> tactics;
  for (int i = 0; i < plan.algorithm_count(); ++i) tactics.push_back({i, "cublaslt heuristic #" + std::to_string(i)});
  return tactics;
}

Result<std::unique_ptr<Kernel>> prepare_matmul(const CudaContext& context, const NodeDesc& node, int32_t tactic) {
  KILN_ASSIGN_OR_RETURN(const MatmulProblem p, problem_of(node));
  const Tensor* bias_constant = p.has_bias ? node.constant(p.bias_input) : nullptr;
  const EpiloguePlan e = epilogue_plan(p, bias_constant != nullptr);
  std::shared_ptr<DeviceBuffer> bias;
  if (e.bias_in_epilogue) {
    KILN_ASSIGN_OR_RETURN(DeviceBuffer uploaded, DeviceBuffer::allocate(bias_constant->nbytes()));
    KILN_RETURN_IF_ERROR(uploaded.copy_from_host(bias_constant->raw_data(), bias_constant->nbytes()));
    bias = std::make_shared<DeviceBuffer>(std::move(uploaded));
  }
  const MatmulPrecision precision = precision_of(context, node);
  KILN_ASSIGN_OR_RETURN(MatmulPlan plan, MatmulPlan::create(*context.cublaslt, precision, e.epilogue, p.shape,
                                                            bias != nullptr ? bias->data() : nullptr, kDefaultMatmulWorkspaceBytes, tactic));
  auto shared_plan = std::make_shared<MatmulPlan>(std::move(plan));
  const bool bias_after = p.has_bias && !e.bias_in_epilogue;
  const bool activation_after = p.activation.op != UnaryOp::kIdentity && !e.activation_in_epilogue;
  const DType dtype = node.inputs[0].dtype;
  const int64_t n_out = p.shape.batch * p.shape.m * p.shape.n;
  const MatmulProblem problem = p;
  const std::string description = std::string("cublaslt ") + matmul_precision_name(precision) + " heuristic #" + std::to_string(tactic) +
                                  (p.has_residual ? " + residual" : "") + (bias_after || activation_after ? " + bias_activation" : "");
  return make_kernel(description, shared_plan->workspace_bytes(), [=](const ExecuteArgs& args) {
    KILN_RETURN_IF_ERROR(expect_args(args, problem.has_residual ? kResidualInput + 1 : problem.has_bias ? 3 : 2, 1));
    const void* residual = problem.has_residual ? args.inputs[kResidualInput] : nullptr;
    KILN_RETURN_IF_ERROR(shared_plan->run(args.inputs[0], args.inputs[1], args.outputs[0], args.workspace, stream_of(args), residual));
    if (!bias_after && !activation_after) return Status::ok_status();
    (void)bias;  // keeps the epilogue's bias alive as long as the kernel
    BiasActivationArgs a;
    a.x = args.outputs[0];
    a.y = args.outputs[0];
    a.bias = bias_after ? args.inputs[problem.bias_input] : nullptr;
    a.n = n_out;
    a.channels = problem.shape.n;
    a.op = activation_after ? problem.activation.op : UnaryOp::kIdentity;
    a.params = problem.activation.params;
    return bias_activation(dtype, a, stream_of(args));
  });
}

}  // namespace

void register_matmul_ops(AdapterTable& table) {
  const OpAdapter matmul{check_matmul, matmul_tactics, prepare_matmul};
  table.add(OpKind::MatMul, matmul);
  table.add(OpKind::Gemm, matmul);
  table.add_by_name("FusedMatMul", matmul);
}

}  // namespace kiln::cuda
