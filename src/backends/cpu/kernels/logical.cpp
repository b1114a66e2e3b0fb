// And, Or, Xor on bool tensors with broadcasting (HF BERT exports combine padding and range
// masks with And), and IsNaN on float32 (the SDPA export guards fully masked rows with it).
#include <cmath>
#include <string>

#include "backends/cpu/kernel_table.h"
#include "backends/cpu/parallel.h"
#include "backends/cpu/strided_rows.h"
#include "core/broadcast.h"

namespace kiln::backends::cpu {
namespace {

constexpr int64_t kGrainElements = 1 << 14;

enum class LogicalOp { kAnd, kOr, kXor };

template <LogicalOp op>
inline bool apply(bool a, bool b) {
  if constexpr (op == LogicalOp::kAnd) return a && b;
  if constexpr (op == LogicalOp::kOr) return a || b;
  if constexpr (op == LogicalOp::kXor) return a != b;
}

bool logical_supported(const NodeDesc& node) {
  if (node.inputs.size() != 2 || node.outputs.size() != 1) return false;
  if (node.inputs[0].dtype != DType::kBool || node.inputs[1].dtype != DType::kBool ||
      node.outputs[0].dtype != DType::kBool)
    return false;
  auto shape = broadcast_shapes(node.inputs[0].shape, node.inputs[1].shape);
  return shape.ok() && *shape == node.outputs[0].shape;
}

template <LogicalOp op>
class LogicalKernel final : public Kernel {
 public:
  LogicalKernel(StridedRows<2> rows, int threads) : rows_(std::move(rows)), threads_(threads) {}
  std::string describe() const override { return "cpu logical"; }
  Status execute(const ExecuteArgs& args) const override {
    const auto* a = static_cast<const bool*>(args.inputs[0]);
    const auto* b = static_cast<const bool*>(args.inputs[1]);
    auto* out = static_cast<bool*>(args.outputs[0]);
    const int64_t inner = rows_.inner(), as = rows_.inner_stride(0), bs = rows_.inner_stride(1);
    const int64_t grain_rows = std::max<int64_t>(1, kGrainElements / std::max<int64_t>(1, inner));
    parallel_for(rows_.rows(), grain_rows, threads_, [&](int64_t begin, int64_t end) {
      for (int64_t row = begin; row < end; ++row) {
        const auto o = rows_.row_offsets(row);
        const bool* x = a + o[0];
        const bool* y = b + o[1];
        bool* z = out + row * inner;
        if (as == 1 && bs == 1) {
          for (int64_t i = 0; i < inner; ++i) z[i] = apply<op>(x[i], y[i]);
        } else {
          for (int64_t i = 0; i < inner; ++i) z[i] = apply<op>(x[i * as], y[i * bs]);
        }
      }
    });
    return Status::ok_status();
  }

 private:
  StridedRows<2> rows_;
  int threads_;
};

template <LogicalOp op>
Result<std::unique_ptr<Kernel>> make_logical(const NodeDesc& node, int32_t, const CpuConfig& config) {
  const Shape& out = node.outputs[0].shape;
  auto rows = make_strided_rows<2>(
      out, {broadcast_strides(node.inputs[0].shape, out), broadcast_strides(node.inputs[1].shape, out)});
  return std::unique_ptr<Kernel>(std::make_unique<LogicalKernel<op>>(std::move(rows), config.threads));
}

bool is_nan_supported(const NodeDesc& node) {
  return node.inputs.size() == 1 && node.outputs.size() == 1 && node.inputs[0].dtype == DType::kFloat32 &&
         node.outputs[0].dtype == DType::kBool && node.inputs[0].shape == node.outputs[0].shape;
}

class IsNanKernel final : public Kernel {
 public:
  IsNanKernel(int64_t n, int threads) : n_(n), threads_(threads) {}
  std::string describe() const override { return "cpu isnan"; }
  Status execute(const ExecuteArgs& args) const override {
    const auto* x = static_cast<const float*>(args.inputs[0]);
    auto* out = static_cast<bool*>(args.outputs[0]);
    // x != x is the definition of NaN and vectorizes to one compare.
    parallel_for(n_, kGrainElements, threads_, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) out[i] = x[i] != x[i];
    });
    return Status::ok_status();
  }

 private:
  int64_t n_;
  int threads_;
};

Result<std::unique_ptr<Kernel>> make_is_nan(const NodeDesc& node, int32_t, const CpuConfig& config) {
  return std::unique_ptr<Kernel>(std::make_unique<IsNanKernel>(node.outputs[0].shape.numel(), config.threads));
}

}  // namespace

void register_logical_kernels(CpuKernelTable& table) {
  table.add(OpKind::And, {logical_supported, make_logical<LogicalOp::kAnd>});
  table.add(OpKind::Or, {logical_supported, make_logical<LogicalOp::kOr>});
  table.add(OpKind::Xor, {logical_supported, make_logical<LogicalOp::kXor>});
  table.add(OpKind::IsNaN, {is_nan_supported, make_is_nan});
}

}  // namespace kiln::backends::cpu
