// Ops that only relabel a buffer's shape (Reshape, Flatten, Squeeze, Unsqueeze, Identity, Dropout
// at inference): a parallel memcpy, skipped when the runtime already gave them the same buffer.
#include <cstring>
#include <string>

#include "backends/cpu/kernel_table.h"
#include "backends/cpu/parallel.h"

namespace kiln::backends::cpu {
namespace {

constexpr int64_t kChunkBytes = 1 << 16;

bool copy_supported(const NodeDesc& node) {
  if (node.inputs.empty() || node.outputs.empty()) return false;
  for (size_t i = 1; i < node.outputs.size(); ++i)
    if (node.outputs[i].present()) return false;  // Dropout's mask
  const DType d = node.inputs[0].dtype;
  return d != DType::kBytes && d != DType::kUndefined && node.outputs[0].dtype == d &&
         node.outputs[0].shape.numel() == node.inputs[0].shape.numel();
}

class CopyKernel final : public Kernel {
 public:
  CopyKernel(int64_t bytes, int threads) : bytes_(bytes), threads_(threads) {}
  std::string describe() const override { return "cpu copy"; }
  Status execute(const ExecuteArgs& args) const override {
    const auto* from = static_cast<const std::byte*>(args.inputs[0]);
    auto* to = static_cast<std::byte*>(args.outputs[0]);
    if (from == to) return Status::ok_status();
    const int64_t chunks = (bytes_ + kChunkBytes - 1) / kChunkBytes;
    parallel_for(chunks, 4, threads_, [&](int64_t begin, int64_t end) {
      const int64_t first = begin * kChunkBytes, last = std::min(bytes_, end * kChunkBytes);
      std::memcpy(to + first, from + first, static_cast<size_t>(last - first));
    });
    return Status::ok_status();
  }

 private:
  int64_t bytes_;
  int threads_;
};

Result<std::unique_ptr<Kernel>> make_copy(const NodeDesc& node, int32_t, const CpuConfig& config) {
  const int64_t bytes = node.inputs[0].shape.numel() * static_cast<int64_t>(dtype_size(node.inputs[0].dtype));
  return std::unique_ptr<Kernel>(std::make_unique<CopyKernel>(bytes, config.threads));
}

}  // namespace

void register_copy_kernels(CpuKernelTable& table) {
  for (OpKind op : {OpKind::Reshape, OpKind::Flatten, OpKind::Squeeze, OpKind::Unsqueeze, OpKind::Identity,
                    OpKind::Dropout})
    table.add(op, {copy_supported, make_copy});
}

}  // namespace kiln::backends::cpu
