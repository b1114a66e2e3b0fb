// Add, Sub, Mul, Div with numpy broadcasting. The broadcast is planned once at prepare time
// (broadcast_plan.h); execution runs rows of one vectorized inner loop, split over threads by
// rows and, for few long rows, by blocks of a row.
#include <algorithm>
#include <string>

#include "backends/cpu/broadcast_plan.h"
#include "backends/cpu/kernel_table.h"
#include "backends/cpu/parallel.h"
#include "backends/cpu/vector_math.h"
#include "core/broadcast.h"

namespace kiln::backends::cpu {
namespace {

enum class BinaryOp { kAdd, kSub, kMul, kDiv };

constexpr int64_t kBlock = 4096;  // elements of a row one work item covers
constexpr int64_t kGrainItems = 4;

template <BinaryOp op>
inline float apply(float a, float b) {
  if constexpr (op == BinaryOp::kAdd) return a + b;
  if constexpr (op == BinaryOp::kSub) return a - b;
  if constexpr (op == BinaryOp::kMul) return a * b;
  if constexpr (op == BinaryOp::kDiv) return a / b;
}

// One block of a row; a_step / b_step are 1 (contiguous) or 0 (broadcast scalar). The three
// cases are separate loops so each vectorizes without a gather. out may alias a or b exactly.
template <BinaryOp op>
KILN_CPU_CLONES void binary_block(const float* a, int64_t a_step, const float* b, int64_t b_step, float* out, int64_t n) {
  if (a_step == 1 && b_step == 1) {
    for (int64_t i = 0; i < n; ++i) out[i] = apply<op>(a[i], b[i]);
  } else if (a_step == 1) {
    const float s = b[0];
    for (int64_t i = 0; i < n; ++i) out[i] = apply<op>(a[i], s);
  } else if (b_step == 1) {
    const float s = a[0];
    for (int64_t i = 0; i < n; ++i) out[i] = apply<op>(s, b[i]);
  } else {
    const float v = apply<op>(a[0], b[0]);
    for (int64_t i = 0; i < n; ++i) out[i] = v;
  }
}

// Inner strides other than 0 and 1 (an operand broadcast along the last axis only).
template <BinaryOp op>
void binary_strided(const float* a, int64_t a_step, const float* b, int64_t b_step, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = apply<op>(a[i * a_step], b[i * b_step]);
}

using BlockFn = void (*)(const float*, int64_t, const float*, int64_t, float*, int64_t);

class BinaryKernel final : public Kernel {
 public:
  BinaryKernel(BlockFn block, BlockFn strided, BroadcastPlan plan, int threads, std::string name)
      : block_(block), strided_(strided), plan_(std::move(plan)), threads_(threads), name_(std::move(name)) {}
  std::string describe() const override { return "cpu vectorized " + name_; }
  Status execute(const ExecuteArgs& args) const override {
    const auto* a = static_cast<const float*>(args.inputs[0]);
    const auto* b = static_cast<const float*>(args.inputs[1]);
    auto* out = static_cast<float*>(args.outputs[0]);
    const int64_t inner = plan_.inner();
    const int64_t as = plan_.a_strides.back(), bs = plan_.b_strides.back();
    const bool simple = (as == 0 || as == 1) && (bs == 0 || bs == 1);
    const int64_t blocks_per_row = (inner + kBlock - 1) / kBlock;
    parallel_for(plan_.rows() * blocks_per_row, kGrainItems, threads_, [&](int64_t begin, int64_t end) {
      for (int64_t item = begin; item < end; ++item) {
        const int64_t row = item / blocks_per_row;
        const int64_t first = (item % blocks_per_row) * kBlock;
        const int64_t n = std::min(kBlock, inner - first);
        int64_t ao = 0, bo = 0;
        plan_.row_offsets(row, ao, bo);
        (simple ? block_ : strided_)(a + ao + first * as, as, b + bo + first * bs, bs, out + row * inner + first, n);
      }
    });
    return Status::ok_status();
  }

 private:
  BlockFn block_, strided_;
  BroadcastPlan plan_;
  int threads_;
  std::string name_;
};

template <BinaryOp op>
Result<std::unique_ptr<Kernel>> make_binary(const NodeDesc& node, int32_t, const CpuConfig& config) {
  return std::unique_ptr<Kernel>(std::make_unique<BinaryKernel>(
      binary_block<op>, binary_strided<op>,
      plan_broadcast(node.inputs[0].shape, node.inputs[1].shape, node.outputs[0].shape), config.threads,
      std::string(op_kind_name(node.op))));
}

bool binary_supported(const NodeDesc& node) {
  if (node.inputs.size() != 2 || node.outputs.size() != 1) return false;
  for (const TensorDesc& t : node.inputs)
    if (t.dtype != DType::kFloat32) return false;
  if (node.outputs[0].dtype != DType::kFloat32) return false;
  auto out = broadcast_shapes(node.inputs[0].shape, node.inputs[1].shape);
  return out.ok() && *out == node.outputs[0].shape;
}

}  // namespace

void register_elementwise_binary_kernels(CpuKernelTable& table) {
  table.add(OpKind::Add, {binary_supported, make_binary<BinaryOp::kAdd>});
  table.add(OpKind::Sub, {binary_supported, make_binary<BinaryOp::kSub>});
  table.add(OpKind::Mul, {binary_supported, make_binary<BinaryOp::kMul>});
  table.add(OpKind::Div, {binary_supported, make_binary<BinaryOp::kDiv>});
}

}  // namespace kiln::backends::cpu
