// Slice with build-time constant starts/ends/axes/steps (negative steps too), any dtype of 1-8
// bytes: a strided copy planned once at prepare. attention-mask-rows creates one per BERT.
#include <algorithm>
#include <optional>
#include <string>

#include "backends/cpu/kernel_table.h"
#include "backends/cpu/strided_copy.h"

namespace kiln::backends::cpu {
namespace {

std::optional<std::vector<int64_t>> constant_ints(const NodeDesc& node, size_t i) {
  const Tensor* t = node.constant(i);
  if (t == nullptr) return std::nullopt;
  std::vector<int64_t> values(static_cast<size_t>(t->numel()));
  if (t->dtype() == DType::kInt64)
    std::copy_n(t->data<int64_t>(), values.size(), values.begin());
  else if (t->dtype() == DType::kInt32)
    std::copy_n(t->data<int32_t>(), values.size(), values.begin());
  else
    return std::nullopt;
  return values;
}

// The read pattern of the slice, or nullopt when the parameters are not constants, are
// malformed, or disagree with the output shape the builder inferred.
std::optional<StridedRows<1>> plan_slice(const NodeDesc& node) {
  if (node.inputs.size() < 3 || node.outputs.size() != 1) return std::nullopt;
  const Shape& in = node.inputs[0].shape;
  const auto rank = static_cast<int64_t>(in.rank());
  auto starts = constant_ints(node, 1), ends = constant_ints(node, 2);
  if (!starts || !ends || starts->size() != ends->size()) return std::nullopt;
  const size_t n = starts->size();
  std::vector<int64_t> axes(n), steps(n, 1);
  for (size_t i = 0; i < n; ++i) axes[i] = static_cast<int64_t>(i);
  if (node.inputs.size() > 3 && node.inputs[3].present()) {
    auto given = constant_ints(node, 3);
    if (!given || given->size() != n) return std::nullopt;
    axes = *given;
  }
  if (node.inputs.size() > 4 && node.inputs[4].present()) {
    auto given = constant_ints(node, 4);
    if (!given || given->size() != n) return std::nullopt;
    steps = *given;
  }
  std::vector<int64_t> in_strides(in.rank(), 1);
  for (size_t d = in.rank(); d-- > 1;) in_strides[d - 1] = in_strides[d] * in[d];
  std::vector<int64_t> dims = in.dims(), strides = in_strides;
  int64_t base = 0;
  std::vector<bool> seen(in.rank(), false);
  for (size_t i = 0; i < n; ++i) {
    if (axes[i] < -rank || axes[i] >= rank || steps[i] == 0 || steps[i] == INT64_MIN) return std::nullopt;
    const auto axis = static_cast<size_t>(axes[i] < 0 ? axes[i] + rank : axes[i]);
    if (seen[axis]) return std::nullopt;
    seen[axis] = true;
    const int64_t dim = in[axis], step = steps[i];
    int64_t b = (*starts)[i] < 0 ? (*starts)[i] + dim : (*starts)[i];
    int64_t e = (*ends)[i] < 0 ? (*ends)[i] + dim : (*ends)[i];
    // As ONNX: positive steps clamp to [0, dim], negative ones walk from dim-1 down to -1.
    b = step > 0 ? std::clamp<int64_t>(b, 0, dim) : std::clamp<int64_t>(b, 0, dim - 1);
    e = step > 0 ? std::clamp<int64_t>(e, 0, dim) : std::clamp<int64_t>(e, -1, dim - 1);
    const int64_t span = step > 0 ? e - b : b - e;
    dims[axis] = span <= 0 ? 0 : (span - 1) / (step > 0 ? step : -step) + 1;
    base += b * in_strides[axis];
    strides[axis] = in_strides[axis] * step;
  }
  if (Shape(dims) != node.outputs[0].shape) return std::nullopt;
  StridedRows<1> rows = make_strided_rows<1>(Shape(dims), {strides});
  rows.base[0] = base;
  return rows;
}

bool slice_supported(const NodeDesc& node) {
  return node.outputs.size() == 1 && node.inputs[0].dtype == node.outputs[0].dtype &&
         strided_copy_supports(dtype_size(node.inputs[0].dtype)) && plan_slice(node).has_value();
}

Result<std::unique_ptr<Kernel>> make_slice(const NodeDesc& node, int32_t, const CpuConfig& config) {
  return std::unique_ptr<Kernel>(
      std::make_unique<StridedCopyKernel>("cpu slice", *plan_slice(node), dtype_size(node.inputs[0].dtype), config.threads));
}

}  // namespace

void register_slice_kernels(CpuKernelTable& table) { table.add(OpKind::Slice, {slice_supported, make_slice}); }

}  // namespace kiln::backends::cpu
