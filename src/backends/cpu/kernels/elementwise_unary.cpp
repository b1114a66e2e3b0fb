// Unary activations and math (Relu ... Gelu, Erf, Exp, Sqrt): one vectorized loop per op, split
// over the backend's threads.
#include <cmath>
#include <string>

#include "backends/cpu/kernel_table.h"
#include "backends/cpu/parallel.h"
#include "backends/cpu/vector_math.h"

namespace kiln::backends::cpu {
namespace {

enum class UnaryOp { kRelu, kLeakyRelu, kSigmoid, kTanh, kGeluErf, kGeluTanh, kErf, kExp, kSqrt, kNeg, kAbs, kReciprocal };

constexpr int64_t kGrain = 1 << 14;  // elements per thread below which fewer threads run

template <UnaryOp op>
inline float apply(float x, float alpha) {
  if constexpr (op == UnaryOp::kRelu) return x > 0.0f ? x : 0.0f;
  if constexpr (op == UnaryOp::kLeakyRelu) return x > 0.0f ? x : alpha * x;
  if constexpr (op == UnaryOp::kSigmoid) return vmath::sigmoid(x);
  if constexpr (op == UnaryOp::kTanh) return vmath::tanh(x);
  if constexpr (op == UnaryOp::kGeluErf) return vmath::gelu_erf(x);
  if constexpr (op == UnaryOp::kGeluTanh) return vmath::gelu_tanh(x);
  if constexpr (op == UnaryOp::kErf) return vmath::erf(x);
  if constexpr (op == UnaryOp::kExp) return vmath::exp(x);
  if constexpr (op == UnaryOp::kSqrt) return std::sqrt(x);
  if constexpr (op == UnaryOp::kNeg) return -x;
  if constexpr (op == UnaryOp::kAbs) return std::fabs(x);
  if constexpr (op == UnaryOp::kReciprocal) return 1.0f / x;
}

template <UnaryOp op>
KILN_CPU_CLONES void unary_chunk(const float* __restrict x, float* __restrict y, int64_t n, float alpha) {
  for (int64_t i = 0; i < n; ++i) y[i] = apply<op>(x[i], alpha);
}

// In place (x == y) is allowed: each element is read before it is written.
template <UnaryOp op>
KILN_CPU_CLONES void unary_chunk_inplace(float* y, int64_t n, float alpha) {
  for (int64_t i = 0; i < n; ++i) y[i] = apply<op>(y[i], alpha);
}

using ChunkFn = void (*)(const float*, float*, int64_t, float);
using InplaceFn = void (*)(float*, int64_t, float);

class UnaryKernel final : public Kernel {
 public:
  UnaryKernel(ChunkFn chunk, InplaceFn inplace, int64_t n, float alpha, int threads, std::string name)
      : chunk_(chunk), inplace_(inplace), n_(n), alpha_(alpha), threads_(threads), name_(std::move(name)) {}
  std::string describe() const override { return "cpu vectorized " + name_; }
  Status execute(const ExecuteArgs& args) const override {
    const auto* x = static_cast<const float*>(args.inputs[0]);
    auto* y = static_cast<float*>(args.outputs[0]);
    parallel_for(n_, kGrain, threads_, [&](int64_t begin, int64_t end) {
      if (x == y)
        inplace_(y + begin, end - begin, alpha_);
      else
        chunk_(x + begin, y + begin, end - begin, alpha_);
    });
    return Status::ok_status();
  }

 private:
  ChunkFn chunk_;
  InplaceFn inplace_;
  int64_t n_;
  float alpha_;
  int threads_;
  std::string name_;
};

template <UnaryOp op>
Result<std::unique_ptr<Kernel>> make_unary(const NodeDesc& node, int32_t, const CpuConfig& config) {
  const float alpha = node.attrs().get_float("alpha", 0.01f);
  return std::unique_ptr<Kernel>(std::make_unique<UnaryKernel>(unary_chunk<op>, unary_chunk_inplace<op>,
                                                               node.outputs[0].shape.numel(), alpha, config.threads,
                                                               std::string(op_kind_name(node.op))));
}

Result<std::unique_ptr<Kernel>> make_gelu(const NodeDesc& node, int32_t tactic, const CpuConfig& config) {
  if (node.attrs().get_string("approximate", "none") == "tanh") return make_unary<UnaryOp::kGeluTanh>(node, tactic, config);
  return make_unary<UnaryOp::kGeluErf>(node, tactic, config);
}

bool unary_supported(const NodeDesc& node) {
  return node.inputs.size() == 1 && node.outputs.size() == 1 && node.inputs[0].dtype == DType::kFloat32 &&
         node.outputs[0].dtype == DType::kFloat32 && node.inputs[0].shape == node.outputs[0].shape;
}

bool gelu_supported(const NodeDesc& node) {
  const std::string approximate = node.attrs().get_string("approximate", "none");
  return unary_supported(node) && (approximate == "none" || approximate == "tanh");
}

}  // namespace

void register_elementwise_unary_kernels(CpuKernelTable& table) {
  table.add(OpKind::Relu, {unary_supported, make_unary<UnaryOp::kRelu>});
  table.add(OpKind::LeakyRelu, {unary_supported, make_unary<UnaryOp::kLeakyRelu>});
  table.add(OpKind::Sigmoid, {unary_supported, make_unary<UnaryOp::kSigmoid>});
  table.add(OpKind::Tanh, {unary_supported, make_unary<UnaryOp::kTanh>});
  table.add(OpKind::Gelu, {gelu_supported, make_gelu});
  table.add(OpKind::Erf, {unary_supported, make_unary<UnaryOp::kErf>});
  table.add(OpKind::Exp, {unary_supported, make_unary<UnaryOp::kExp>});
  table.add(OpKind::Sqrt, {unary_supported, make_unary<UnaryOp::kSqrt>});
  table.add(OpKind::Neg, {unary_supported, make_unary<UnaryOp::kNeg>});
  table.add(OpKind::Abs, {unary_supported, make_unary<UnaryOp::kAbs>});
  table.add(OpKind::Reciprocal, {unary_supported, make_unary<UnaryOp::kReciprocal>});
}

}  // namespace kiln::backends::cpu
