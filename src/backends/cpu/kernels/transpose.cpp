// Transpose for any fixed-size dtype. Dims that stay adjacent and in order are merged first;
// when the last output dim is also the input's last dim (heads split / merged in attention) each
// row is one memcpy.
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include "backends/cpu/kernel_table.h"
#include "backends/cpu/parallel.h"

namespace kiln::backends::cpu {
namespace {

struct TransposePlan {
  std::vector<int64_t> out_dims;    // merged output dims
  std::vector<int64_t> in_strides;  // input stride (elements) of each merged output dim
  size_t element_bytes = 0;
};

Result<std::vector<int64_t>> permutation(const NodeDesc& node) {
  const size_t rank = node.inputs[0].shape.rank();
  std::vector<int64_t> perm = node.attrs().get_ints("perm");
  if (perm.empty()) {
    perm.resize(rank);
    std::iota(perm.rbegin(), perm.rend(), 0);
  }
  if (perm.size() != rank) return invalid_argument("Transpose: perm has the wrong length");
  std::vector<bool> seen(rank, false);
  for (int64_t p : perm) {
    if (p < 0 || p >= static_cast<int64_t>(rank) || seen[static_cast<size_t>(p)])
      return invalid_argument("Transpose: perm is not a permutation");
    seen[static_cast<size_t>(p)] = true;
  }
  return perm;
}

Result<TransposePlan> transpose_plan(const NodeDesc& node) {
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> perm, permutation(node));
  const Shape& in = node.inputs[0].shape;
  const std::vector<int64_t> strides = contiguous_strides(in);
  std::vector<int64_t> expected;
  for (int64_t p : perm) expected.push_back(in[static_cast<size_t>(p)]);
  if (Shape(expected) != node.outputs[0].shape) return invalid_argument("Transpose: unexpected output shape");
  TransposePlan plan;
  plan.element_bytes = dtype_size(node.inputs[0].dtype);
  for (int64_t p : perm) {
    const int64_t d = in[static_cast<size_t>(p)], s = strides[static_cast<size_t>(p)];
    if (d == 1) continue;
    if (!plan.out_dims.empty() && plan.in_strides.back() == s * d) {
      plan.out_dims.back() *= d;
      plan.in_strides.back() = s;
      continue;
    }
    plan.out_dims.push_back(d);
    plan.in_strides.push_back(s);
  }
  if (plan.out_dims.empty()) {
    plan.out_dims = {1};
    plan.in_strides = {1};
  }
  return plan;
}

bool transpose_supported(const NodeDesc& node) {
  if (node.inputs.size() != 1 || node.outputs.size() != 1) return false;
  const DType d = node.inputs[0].dtype;
  return d != DType::kBytes && d != DType::kUndefined && dtype_size(d) > 0 && node.outputs[0].dtype == d &&
         transpose_plan(node).ok();
}

template <class T>
void strided_row(const T* in, int64_t stride, T* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = in[i * stride];
}

class TransposeKernel final : public Kernel {
 public:
  TransposeKernel(TransposePlan plan, int threads) : plan_(std::move(plan)), threads_(threads) {}
  std::string describe() const override { return "cpu transpose"; }
  Status execute(const ExecuteArgs& args) const override {
    const auto* in = static_cast<const std::byte*>(args.inputs[0]);
    auto* out = static_cast<std::byte*>(args.outputs[0]);
    const size_t rank = plan_.out_dims.size();
    const int64_t inner = plan_.out_dims.back(), inner_stride = plan_.in_strides.back();
    int64_t rows = 1;
    for (size_t i = 0; i + 1 < rank; ++i) rows *= plan_.out_dims[i];
    const size_t eb = plan_.element_bytes;
    parallel_for(rows, 16, threads_, [&](int64_t begin, int64_t end) {
      for (int64_t row = begin; row < end; ++row) {
        int64_t offset = 0;
        for (int64_t r = row, i = static_cast<int64_t>(rank) - 2; i >= 0; --i) {
          offset += (r % plan_.out_dims[static_cast<size_t>(i)]) * plan_.in_strides[static_cast<size_t>(i)];
          r /= plan_.out_dims[static_cast<size_t>(i)];
        }
        const std::byte* src = in + offset * static_cast<int64_t>(eb);
        std::byte* dst = out + row * inner * static_cast<int64_t>(eb);
        if (inner_stride == 1) {
          std::memcpy(dst, src, static_cast<size_t>(inner) * eb);
        } else if (eb == sizeof(float)) {
          strided_row(reinterpret_cast<const uint32_t*>(src), inner_stride, reinterpret_cast<uint32_t*>(dst), inner);
        } else if (eb == sizeof(int64_t)) {
          strided_row(reinterpret_cast<const uint64_t*>(src), inner_stride, reinterpret_cast<uint64_t*>(dst), inner);
        } else {
          for (int64_t i = 0; i < inner; ++i) std::memcpy(dst + i * static_cast<int64_t>(eb), src + i * inner_stride * static_cast<int64_t>(eb), eb);
        }
      }
    });
    return Status::ok_status();
  }

 private:
  TransposePlan plan_;
  int threads_;
};

Result<std::unique_ptr<Kernel>> make_transpose(const NodeDesc& node, int32_t, const CpuConfig& config) {
  KILN_ASSIGN_OR_RETURN(TransposePlan plan, transpose_plan(node));
  return std::unique_ptr<Kernel>(std::make_unique<TransposeKernel>(std::move(plan), config.threads));
}

}  // namespace

void register_transpose_kernels(CpuKernelTable& table) {
  table.add(OpKind::Transpose, {transpose_supported, make_transpose});
}

}  // namespace kiln::backends::cpu
