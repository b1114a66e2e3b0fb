// Where(condition, x, y) with three-way broadcasting, x/y of any dtype of 1-8 bytes. HF BERT
// exports build the additive attention mask with it (Where(mask, 0, lowest)).
#include <string>

#include "backends/cpu/kernel_table.h"
#include "backends/cpu/parallel.h"
#include "backends/cpu/strided_rows.h"
#include "core/broadcast.h"

namespace kiln::backends::cpu {
namespace {

constexpr int64_t kGrainElements = 1 << 14;

bool where_supported(const NodeDesc& node) {
  if (node.inputs.size() != 3 || node.outputs.size() != 1) return false;
  const DType d = node.outputs[0].dtype;
  const size_t bytes = dtype_size(d);
  if (node.inputs[0].dtype != DType::kBool || node.inputs[1].dtype != d || node.inputs[2].dtype != d) return false;
  if (bytes != 1 && bytes != 2 && bytes != 4 && bytes != 8) return false;
  auto shape = broadcast_shapes(node.inputs[0].shape, node.inputs[1].shape);
  if (shape.ok()) shape = broadcast_shapes(*shape, node.inputs[2].shape);
  return shape.ok() && *shape == node.outputs[0].shape;
}

// The mask case (contiguous condition, scalar x and y) and the all-contiguous case get their own
// loops so they vectorize; anything else takes the strided loop.
template <class Word>
void select_row(const bool* c, int64_t cs, const Word* x, int64_t xs, const Word* y, int64_t ys, Word* out, int64_t n) {
  if (cs == 1 && xs == 0 && ys == 0) {
    const Word a = x[0], b = y[0];
    for (int64_t i = 0; i < n; ++i) out[i] = c[i] ? a : b;
  } else if (cs == 1 && xs == 1 && ys == 1) {
    for (int64_t i = 0; i < n; ++i) out[i] = c[i] ? x[i] : y[i];
  } else {
    for (int64_t i = 0; i < n; ++i) out[i] = c[i * cs] ? x[i * xs] : y[i * ys];
  }
}

class WhereKernel final : public Kernel {
 public:
  WhereKernel(StridedRows<3> rows, size_t element_bytes, int threads)
      : rows_(std::move(rows)), element_bytes_(element_bytes), threads_(threads) {}
  std::string describe() const override { return "cpu where"; }
  Status execute(const ExecuteArgs& args) const override {
    switch (element_bytes_) {
      case 1: run<uint8_t>(args); break;
      case 2: run<uint16_t>(args); break;
      case 4: run<uint32_t>(args); break;
      default: run<uint64_t>(args); break;
    }
    return Status::ok_status();
  }

 private:
  template <class Word>
  void run(const ExecuteArgs& args) const {
    const auto* c = static_cast<const bool*>(args.inputs[0]);
    const auto* x = static_cast<const Word*>(args.inputs[1]);
    const auto* y = static_cast<const Word*>(args.inputs[2]);
    auto* out = static_cast<Word*>(args.outputs[0]);
    const int64_t inner = rows_.inner();
    const int64_t grain_rows = std::max<int64_t>(1, kGrainElements / std::max<int64_t>(1, inner));
    parallel_for(rows_.rows(), grain_rows, threads_, [&](int64_t begin, int64_t end) {
      for (int64_t row = begin; row < end; ++row) {
        const auto o = rows_.row_offsets(row);
        select_row<Word>(c + o[0], rows_.inner_stride(0), x + o[1], rows_.inner_stride(1), y + o[2],
                         rows_.inner_stride(2), out + row * inner, inner);
      }
    });
  }

  StridedRows<3> rows_;
  size_t element_bytes_;
  int threads_;
};

Result<std::unique_ptr<Kernel>> make_where(const NodeDesc& node, int32_t, const CpuConfig& config) {
  const Shape& out = node.outputs[0].shape;
  auto rows = make_strided_rows<3>(out, {broadcast_strides(node.inputs[0].shape, out),
                                         broadcast_strides(node.inputs[1].shape, out),
                                         broadcast_strides(node.inputs[2].shape, out)});
  return std::unique_ptr<Kernel>(
      std::make_unique<WhereKernel>(std::move(rows), dtype_size(node.outputs[0].dtype), config.threads));
}

}  // namespace

void register_where_kernels(CpuKernelTable& table) { table.add(OpKind::Where, {where_supported, make_where}); }

}  // namespace kiln::backends::cpu
