// Cast between float32, int64, int32 and bool (BERT casts its int64 attention mask to float).
// Other dtype pairs go to the reference backend.
#include <cmath>
#include <string>

#include "backends/cpu/kernel_table.h"
#include "backends/cpu/parallel.h"

namespace kiln::backends::cpu {
namespace {

bool castable(DType d) {
  return d == DType::kFloat32 || d == DType::kInt64 || d == DType::kInt32 || d == DType::kBool;
}

bool cast_supported(const NodeDesc& node) {
  return node.inputs.size() == 1 && node.outputs.size() == 1 && castable(node.inputs[0].dtype) &&
         castable(node.outputs[0].dtype) && node.inputs[0].shape == node.outputs[0].shape;
}

template <class From, class To>
void cast_range(const void* in, void* out, int64_t begin, int64_t end) {
  const auto* x = static_cast<const From*>(in);
  auto* y = static_cast<To*>(out);
  for (int64_t i = begin; i < end; ++i) {
    if constexpr (std::is_same_v<To, bool>)
      y[i] = x[i] != From{0};
    else
      y[i] = static_cast<To>(x[i]);
  }
}

using CastFn = void (*)(const void*, void*, int64_t, int64_t);

template <class From>
CastFn cast_from(DType to) {
  switch (to) {
    case DType::kFloat32: return cast_range<From, float>;
    case DType::kInt64: return cast_range<From, int64_t>;
    case DType::kInt32: return cast_range<From, int32_t>;
    default: return cast_range<From, bool>;
  }
}

CastFn cast_function(DType from, DType to) {
  switch (from) {
    case DType::kFloat32: return cast_from<float>(to);
    case DType::kInt64: return cast_from<int64_t>(to);
    case DType::kInt32: return cast_from<int32_t>(to);
    default: return cast_from<bool>(to);
  }
}

class CastKernel final : public Kernel {
 public:
  CastKernel(CastFn fn, int64_t n, int threads) : fn_(fn), n_(n), threads_(threads) {}
  std::string describe() const override { return "cpu cast"; }
  Status execute(const ExecuteArgs& args) const override {
    parallel_for(n_, 1 << 14, threads_, [&](int64_t begin, int64_t end) { fn_(args.inputs[0], args.outputs[0], begin, end); });
    return Status::ok_status();
  }

 private:
  CastFn fn_;
  int64_t n_;
  int threads_;
};

Result<std::unique_ptr<Kernel>> make_cast(const NodeDesc& node, int32_t, const CpuConfig& config) {
  return std::unique_ptr<Kernel>(std::make_unique<CastKernel>(
      cast_function(node.inputs[0].dtype, node.outputs[0].dtype), node.outputs[0].shape.numel(), config.threads));
}

}  // namespace

void register_cast_kernels(CpuKernelTable& table) { table.add(OpKind::Cast, {cast_supported, make_cast}); }

}  // namespace kiln::backends::cpu
