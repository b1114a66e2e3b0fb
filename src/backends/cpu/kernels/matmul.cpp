// MatMul (numpy semantics, batched with broadcasting) and FusedMatMul (act(A @ op(B) + bias + Z),
// docs/fused-ops.md) through oneDNN matmul. When B has no batch dims the batch of A folds into M:
// one large GEMM instead of many small ones.
#include <string>
#include <vector>

#include "backends/cpu/kernel_table.h"
#include "backends/cpu/matmul_primitive.h"
#include "backends/cpu/onednn.h"

namespace kiln::backends::cpu {
namespace {

enum MatmulInput : size_t { kA = 0, kB = 1, kBias = 2, kZ = 3 };
constexpr size_t kMatrixRank = 2;

bool has_input(const NodeDesc& node, size_t i) { return node.inputs.size() > i && node.inputs[i].present(); }

Result<MatmulSpec> matmul_spec(const NodeDesc& node) {
  if (node.inputs.size() < 2 || node.outputs.empty()) return invalid_argument("MatMul needs A, B and one output");
  std::vector<int64_t> a = node.inputs[kA].shape.dims();
  std::vector<int64_t> b = node.inputs[kB].shape.dims();
  const bool trans_b = node.attrs().get_int("trans_b", 0) != 0;
  if (a.empty() || b.empty()) return invalid_argument("MatMul: scalar operands");
  if (trans_b && b.size() < kMatrixRank) return invalid_argument("MatMul: trans_b needs a matrix B");
  if (a.size() == 1) a.insert(a.begin(), 1);
  if (b.size() == 1) b.push_back(1);
  const int64_t m = a[a.size() - 2], k = a.back();
  const int64_t n = trans_b ? b[b.size() - 2] : b.back();
  const int64_t k_b = trans_b ? b.back() : b[b.size() - 2];
  if (k != k_b)
    return invalid_argument("MatMul: inner dimensions differ: " + node.inputs[kA].shape.to_string() + " and " +
                            node.inputs[kB].shape.to_string());
  const size_t rank = std::max(a.size(), b.size());
  std::vector<int64_t> a_batch(rank - a.size(), 1), b_batch(rank - b.size(), 1);
  a_batch.insert(a_batch.end(), a.begin(), a.end() - 2);
  b_batch.insert(b_batch.end(), b.begin(), b.end() - 2);
  std::vector<int64_t> batch;
  for (size_t i = 0; i + 2 < rank; ++i) {
    if (a_batch[i] != b_batch[i] && a_batch[i] != 1 && b_batch[i] != 1)
      return invalid_argument("MatMul: batch dims of " + node.inputs[kA].shape.to_string() + " and " +
                              node.inputs[kB].shape.to_string() + " do not broadcast");
    batch.push_back(std::max(a_batch[i], b_batch[i]));
  }
  // The expected output: batch, then M unless A was a vector, then N unless B was a vector.
  std::vector<int64_t> expected = batch;
  if (node.inputs[kA].shape.rank() > 1) expected.push_back(m);
  if (node.inputs[kB].shape.rank() > 1) expected.push_back(n);
  if (Shape(expected) != node.outputs[0].shape)
    return invalid_argument("MatMul: output " + node.outputs[0].shape.to_string() + " should be " +
                            Shape(expected).to_string());

  int64_t b_batch_count = 1, a_batch_count = 1;
  for (int64_t d : b_batch) b_batch_count *= d;
  for (int64_t d : a_batch) a_batch_count *= d;
  MatmulSpec spec;
  std::vector<int64_t> b_stored_tail = trans_b ? std::vector<int64_t>{n, k} : std::vector<int64_t>{k, n};
  if (b_batch_count == 1) {
    // B is one matrix: every batch of A is a block of rows of one GEMM.
    spec.src_dims = {a_batch_count * m, k};
    spec.weights_dims = {k, n};
    spec.dst_dims = {a_batch_count * m, n};
    spec.weights_strides = trans_b ? std::vector<int64_t>{1, k} : std::vector<int64_t>{n, 1};
  } else {
    spec.src_dims = a_batch;
    spec.src_dims.insert(spec.src_dims.end(), {m, k});
    spec.weights_dims = b_batch;
    spec.weights_dims.insert(spec.weights_dims.end(), {k, n});
    spec.dst_dims = batch;
    spec.dst_dims.insert(spec.dst_dims.end(), {m, n});
    std::vector<int64_t> stored = b_batch;
    stored.insert(stored.end(), b_stored_tail.begin(), b_stored_tail.end());
    spec.weights_strides = dense_strides(stored);
    if (trans_b) std::swap(spec.weights_strides[rank - 1], spec.weights_strides[rank - 2]);
  }
  spec.src_strides = dense_strides(spec.src_dims);
  if (has_input(node, kBias)) {
    if (node.inputs[kBias].shape != Shape{n})
      return invalid_argument("FusedMatMul: bias " + node.inputs[kBias].shape.to_string() + " should be [" +
                              std::to_string(n) + "]");
    spec.bias_dims.assign(spec.dst_dims.size(), 1);
    spec.bias_dims.back() = n;
  }
  if (has_input(node, kZ)) {
    if (node.inputs[kZ].shape != node.outputs[0].shape)
      return invalid_argument("FusedMatMul: residual Z " + node.inputs[kZ].shape.to_string() + " should be " +
                              node.outputs[0].shape.to_string());
    spec.residual = true;
  }
  spec.activation = &node.attrs();
  if (const Tensor* w = node.constant(kB); w && b_batch_count == 1) spec.constant_weights = w->raw_data();
  return spec;
}

bool matmul_supported(const NodeDesc& node) {
  if (node.inputs.size() < 2 || node.outputs.size() != 1) return false;
  for (const TensorDesc& t : node.inputs)
    if (t.present() && t.dtype != DType::kFloat32) return false;
  return node.outputs[0].dtype == DType::kFloat32 && activation_supported(node.attrs()) && matmul_spec(node).ok();
}

class MatmulKernel final : public Kernel {
 public:
  static Result<std::unique_ptr<Kernel>> make(const NodeDesc& node, int32_t, const CpuConfig& config) {
    KILN_ASSIGN_OR_RETURN(MatmulSpec spec, matmul_spec(node));
    auto kernel = std::make_unique<MatmulKernel>();
    kernel->threads_ = config.threads;
    kernel->has_bias_ = has_input(node, kBias);
    kernel->has_residual_ = has_input(node, kZ);
    KILN_RETURN_IF_ERROR(kernel->matmul_.prepare(spec, config.threads));
    return std::unique_ptr<Kernel>(std::move(kernel));
  }
  size_t workspace_bytes() const override { return matmul_.scratchpad_bytes(); }
  std::string describe() const override { return "onednn matmul " + matmul_.impl(); }
  Status execute(const ExecuteArgs& args) const override {
    use_threads(threads_);
    return onednn_call("matmul", [&] {
      matmul_.execute(args.inputs[kA], args.inputs[kB], has_bias_ ? args.inputs[kBias] : nullptr, args.outputs[0],
                      args.workspace, has_residual_ ? args.inputs[kZ] : nullptr);
    });
  }

 private:
  int threads_ = 1;
  bool has_bias_ = false;
  bool has_residual_ = false;
  MatmulPrimitive matmul_;
};

}  // namespace

void register_matmul_kernels(CpuKernelTable& table) {
  table.add(OpKind::MatMul, {matmul_supported, MatmulKernel::make});
  table.add(OpKind::FusedMatMul, {matmul_supported, MatmulKernel::make});
}

}  // namespace kiln::backends::cpu
