// Softmax along one axis (opset 13). Rows along the last axis are contiguous and run the
// vectorized row routine; another axis is first gathered into a contiguous row in the workspace.
#include <string>

#include "backends/cpu/kernel_table.h"
#include "backends/cpu/parallel.h"
#include "backends/cpu/row_math.h"
#include "core/broadcast.h"

namespace kiln::backends::cpu {
namespace {

constexpr int64_t kDefaultAxis = -1;

struct SoftmaxGeometry {
  int64_t outer = 1, length = 1, inner = 1;
};

Result<SoftmaxGeometry> softmax_geometry(const NodeDesc& node) {
  const Shape& s = node.inputs[0].shape;
  const int64_t rank = static_cast<int64_t>(s.rank());
  if (rank == 0) return unimplemented("Softmax of a scalar");
  KILN_ASSIGN_OR_RETURN(int64_t axis, normalize_axis(node.attrs().get_int("axis", kDefaultAxis), rank));
  SoftmaxGeometry g;
  for (int64_t d = 0; d < axis; ++d) g.outer *= s[static_cast<size_t>(d)];
  g.length = s[static_cast<size_t>(axis)];
  for (int64_t d = axis + 1; d < rank; ++d) g.inner *= s[static_cast<size_t>(d)];
  return g;
}

bool softmax_supported(const NodeDesc& node) {
  return node.inputs.size() == 1 && node.outputs.size() == 1 && node.inputs[0].dtype == DType::kFloat32 &&
         node.outputs[0].dtype == DType::kFloat32 && node.inputs[0].shape == node.outputs[0].shape &&
         softmax_geometry(node).ok();
}

class SoftmaxKernel final : public Kernel {
 public:
  SoftmaxKernel(SoftmaxGeometry g, int threads) : g_(g), threads_(threads) {}
  // Strided axes: one gathered row per thread.
  size_t workspace_bytes() const override {
    return g_.inner == 1 ? 0 : static_cast<size_t>(threads_) * static_cast<size_t>(g_.length) * sizeof(float);
  }
  std::string describe() const override { return "cpu vectorized softmax"; }
  Status execute(const ExecuteArgs& args) const override {
    const auto* x = static_cast<const float*>(args.inputs[0]);
    auto* y = static_cast<float*>(args.outputs[0]);
    const int64_t rows = g_.outer * g_.inner, length = g_.length, inner = g_.inner;
    if (inner == 1) {
      parallel_for(rows, 16, threads_, [&](int64_t begin, int64_t end) {
        for (int64_t r = begin; r < end; ++r) softmax_row(x + r * length, 1.0f, nullptr, 0, y + r * length, length);
      });
      return Status::ok_status();
    }
    auto* scratch = static_cast<float*>(args.workspace);
    parallel_for(rows, 16, threads_, [&](int64_t begin, int64_t end) {
      float* row = scratch + static_cast<int64_t>(omp_get_thread_num()) * length;
      for (int64_t r = begin; r < end; ++r) {
        const int64_t base = (r / inner) * length * inner + r % inner;
        for (int64_t i = 0; i < length; ++i) row[i] = x[base + i * inner];
        softmax_row(row, 1.0f, nullptr, 0, row, length);
        for (int64_t i = 0; i < length; ++i) y[base + i * inner] = row[i];
      }
    });
    return Status::ok_status();
  }

 private:
  SoftmaxGeometry g_;
  int threads_;
};

Result<std::unique_ptr<Kernel>> make_softmax(const NodeDesc& node, int32_t, const CpuConfig& config) {
  KILN_ASSIGN_OR_RETURN(SoftmaxGeometry g, softmax_geometry(node));
  return std::unique_ptr<Kernel>(std::make_unique<SoftmaxKernel>(g, config.threads));
}

}  // namespace

void register_softmax_kernels(CpuKernelTable& table) { table.add(OpKind::Softmax, {softmax_supported, make_softmax}); }

}  // namespace kiln::backends::cpu
