// Gather along any axis for any fixed-size dtype (embedding lookups are axis 0 of a [V, E]
// table): each index selects a contiguous block of the inner dims, copied with memcpy.
// Indices out of [-dim, dim) are an INVALID_ARGUMENT at execution.
#include <cstring>
#include <string>

#include "backends/cpu/kernel_table.h"
#include "backends/cpu/parallel.h"
#include "core/broadcast.h"

namespace kiln::backends::cpu {
namespace {

enum GatherInput : size_t { kData = 0, kIndices = 1 };

struct GatherGeometry {
  int64_t outer = 1, axis_dim = 1, inner_bytes = 0, count = 0;
};

Result<GatherGeometry> gather_geometry(const NodeDesc& node) {
  const Shape& data = node.inputs[kData].shape;
  const Shape& indices = node.inputs[kIndices].shape;
  if (data.rank() == 0) return invalid_argument("Gather of a scalar");
  KILN_ASSIGN_OR_RETURN(int64_t axis, normalize_axis(node.attrs().get_int("axis", 0), static_cast<int64_t>(data.rank())));
  GatherGeometry g;
  std::vector<int64_t> expected;
  int64_t inner = 1;
  for (int64_t d = 0; d < axis; ++d) {
    g.outer *= data[static_cast<size_t>(d)];
    expected.push_back(data[static_cast<size_t>(d)]);
  }
  expected.insert(expected.end(), indices.dims().begin(), indices.dims().end());
  for (size_t d = static_cast<size_t>(axis) + 1; d < data.rank(); ++d) {
    inner *= data[d];
    expected.push_back(data[d]);
  }
  if (Shape(expected) != node.outputs[0].shape) return invalid_argument("Gather: unexpected output shape");
  g.axis_dim = data[static_cast<size_t>(axis)];
  g.inner_bytes = inner * static_cast<int64_t>(dtype_size(node.inputs[kData].dtype));
  g.count = indices.numel();
  return g;
}

bool gather_supported(const NodeDesc& node) {
  if (node.inputs.size() != 2 || node.outputs.size() != 1) return false;
  const DType d = node.inputs[kData].dtype, i = node.inputs[kIndices].dtype;
  if (d == DType::kBytes || d == DType::kUndefined || dtype_size(d) == 0 || node.outputs[0].dtype != d) return false;
  return (i == DType::kInt64 || i == DType::kInt32) && gather_geometry(node).ok();
}

class GatherKernel final : public Kernel {
 public:
  GatherKernel(GatherGeometry g, bool int64_indices, int threads) : g_(g), int64_(int64_indices), threads_(threads) {}
  std::string describe() const override { return "cpu gather"; }
  Status execute(const ExecuteArgs& args) const override {
    const auto* data = static_cast<const std::byte*>(args.inputs[kData]);
    auto* out = static_cast<std::byte*>(args.outputs[0]);
    // Check every index first so that a bad one leaves no half-written output behind.
    for (int64_t i = 0; i < g_.count; ++i) {
      const int64_t index = index_at(args.inputs[kIndices], i);
      if (index < -g_.axis_dim || index >= g_.axis_dim)
        return invalid_argument("Gather: index " + std::to_string(index) + " out of range for a dimension of " +
                                std::to_string(g_.axis_dim));
    }
    const int64_t items = g_.outer * g_.count;
    parallel_for(items, 64, threads_, [&](int64_t begin, int64_t end) {
      for (int64_t item = begin; item < end; ++item) {
        const int64_t o = item / g_.count, i = item % g_.count;
        int64_t index = index_at(args.inputs[kIndices], i);
        if (index < 0) index += g_.axis_dim;
        std::memcpy(out + item * g_.inner_bytes, data + (o * g_.axis_dim + index) * g_.inner_bytes,
                    static_cast<size_t>(g_.inner_bytes));
      }
    });
    return Status::ok_status();
  }

 private:
  int64_t index_at(const void* indices, int64_t i) const {
    return int64_ ? static_cast<const int64_t*>(indices)[i] : static_cast<const int32_t*>(indices)[i];
  }

  GatherGeometry g_;
  bool int64_;
  int threads_;
};

Result<std::unique_ptr<Kernel>> make_gather(const NodeDesc& node, int32_t, const CpuConfig& config) {
  KILN_ASSIGN_OR_RETURN(GatherGeometry g, gather_geometry(node));
  return std::unique_ptr<Kernel>(
      std::make_unique<GatherKernel>(g, node.inputs[kIndices].dtype == DType::kInt64, config.threads));
}

}  // namespace

void register_gather_kernels(CpuKernelTable& table) { table.add(OpKind::Gather, {gather_supported, make_gather}); }

}  // namespace kiln::backends::cpu
