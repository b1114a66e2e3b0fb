// Split along one axis (the merged Q/K/V projection of BERT splits into three): each output is a
// run of contiguous blocks of the input, copied with memcpy. The split sizes are the outputs'
// shapes along the axis, which shape inference already derived from `split` / `num_outputs`.
#include <cstring>
#include <string>
#include <vector>

#include "backends/cpu/kernel_table.h"
#include "backends/cpu/parallel.h"
#include "core/broadcast.h"

namespace kiln::backends::cpu {
namespace {

struct SplitPlan {
  int64_t outer = 1;
  int64_t input_row_bytes = 0;                // bytes of one outer row of the input
  std::vector<int64_t> offsets, row_bytes;    // per output: its byte offset within a row, its row size
};

Result<SplitPlan> split_plan(const NodeDesc& node) {
  if (node.inputs.empty() || node.outputs.empty()) return invalid_argument("Split needs an input and outputs");
  const Shape& x = node.inputs[0].shape;
  if (x.rank() == 0) return invalid_argument("Split of a scalar");
  KILN_ASSIGN_OR_RETURN(int64_t axis, normalize_axis(node.attrs().get_int("axis", 0), static_cast<int64_t>(x.rank())));
  const auto a = static_cast<size_t>(axis);
  int64_t inner = 1;
  SplitPlan plan;
  for (size_t d = 0; d < a; ++d) plan.outer *= x[d];
  for (size_t d = a + 1; d < x.rank(); ++d) inner *= x[d];
  const auto element = static_cast<int64_t>(dtype_size(node.inputs[0].dtype));
  int64_t covered = 0;
  for (const TensorDesc& out : node.outputs) {
    if (!out.present() || out.dtype != node.inputs[0].dtype || out.shape.rank() != x.rank())
      return unimplemented("Split: every output must be used and of the input's dtype and rank");
    for (size_t d = 0; d < x.rank(); ++d)
      if (d != a && out.shape[d] != x[d]) return invalid_argument("Split: outputs differ from the input off the axis");
    plan.offsets.push_back(covered * inner * element);
    plan.row_bytes.push_back(out.shape[a] * inner * element);
    covered += out.shape[a];
  }
  if (covered != x[a]) return invalid_argument("Split: output sizes do not add up to the input's axis");
  plan.input_row_bytes = x[a] * inner * element;
  return plan;
}

bool split_supported(const NodeDesc& node) {
  const DType d = node.inputs.empty() ? DType::kUndefined : node.inputs[0].dtype;
  return d != DType::kBytes && d != DType::kUndefined && split_plan(node).ok();
}

class SplitKernel final : public Kernel {
 public:
  SplitKernel(SplitPlan plan, int threads) : plan_(std::move(plan)), threads_(threads) {}
  std::string describe() const override { return "cpu split"; }
  Status execute(const ExecuteArgs& args) const override {
    const auto* in = static_cast<const std::byte*>(args.inputs[0]);
    const auto outputs = static_cast<int64_t>(plan_.offsets.size());
    parallel_for(plan_.outer * outputs, 16, threads_, [&](int64_t begin, int64_t end) {
      for (int64_t item = begin; item < end; ++item) {
        const int64_t row = item / outputs;
        const auto o = static_cast<size_t>(item % outputs);
        std::memcpy(static_cast<std::byte*>(args.outputs[o]) + row * plan_.row_bytes[o],
                    in + row * plan_.input_row_bytes + plan_.offsets[o], static_cast<size_t>(plan_.row_bytes[o]));
      }
    });
    return Status::ok_status();
  }

 private:
  SplitPlan plan_;
  int threads_;
};

Result<std::unique_ptr<Kernel>> make_split(const NodeDesc& node, int32_t, const CpuConfig& config) {
  KILN_ASSIGN_OR_RETURN(SplitPlan plan, split_plan(node));
  return std::unique_ptr<Kernel>(std::make_unique<SplitKernel>(std::move(plan), config.threads));
}

}  // namespace

void register_split_kernels(CpuKernelTable& table) { table.add(OpKind::Split, {split_supported, make_split}); }

}  // namespace kiln::backends::cpu
