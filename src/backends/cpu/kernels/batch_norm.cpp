// BatchNormalization at inference: one scale and shift per channel, folded at prepare time when
// the statistics are constant (they always are in exported models), then a vectorized affine
// loop per (n, c) plane. Training mode and the running-statistics outputs go to the reference.
#include <cmath>
#include <string>
#include <vector>

#include "backends/cpu/kernel_table.h"
#include "backends/cpu/parallel.h"
#include "backends/cpu/vector_math.h"

namespace kiln::backends::cpu {
namespace {

enum BatchNormInput : size_t { kX = 0, kScale = 1, kBias = 2, kMean = 3, kVar = 4 };
constexpr float kDefaultEpsilon = 1e-5f;

bool batch_norm_supported(const NodeDesc& node) {
  if (node.inputs.size() != 5 || node.outputs.empty() || node.attrs().get_int("training_mode", 0) != 0) return false;
  for (size_t i = 1; i < node.outputs.size(); ++i)
    if (node.outputs[i].present()) return false;
  for (const TensorDesc& t : node.inputs)
    if (t.dtype != DType::kFloat32) return false;
  const Shape& x = node.inputs[kX].shape;
  if (x.rank() < 2 || node.outputs[0].shape != x) return false;
  for (size_t i = kScale; i <= kVar; ++i)
    if (node.inputs[i].shape != Shape{x[1]} || !node.constant(i)) return false;
  return true;
}

KILN_CPU_CLONES void affine_plane(const float* x, float scale, float shift, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * scale + shift;
}

class BatchNormKernel final : public Kernel {
 public:
  BatchNormKernel(std::vector<float> scale, std::vector<float> shift, int64_t batch, int64_t plane, int threads)
      : scale_(std::move(scale)), shift_(std::move(shift)), batch_(batch), plane_(plane), threads_(threads) {}
  std::string describe() const override { return "cpu vectorized batch norm (folded affine)"; }
  Status execute(const ExecuteArgs& args) const override {
    const auto* x = static_cast<const float*>(args.inputs[kX]);
    auto* y = static_cast<float*>(args.outputs[0]);
    const auto channels = static_cast<int64_t>(scale_.size());
    parallel_for(batch_ * channels, 4, threads_, [&](int64_t begin, int64_t end) {
      for (int64_t p = begin; p < end; ++p) {
        const auto c = static_cast<size_t>(p % channels);
        affine_plane(x + p * plane_, scale_[c], shift_[c], y + p * plane_, plane_);
      }
    });
    return Status::ok_status();
  }

 private:
  std::vector<float> scale_, shift_;
  int64_t batch_, plane_;
  int threads_;
};

Result<std::unique_ptr<Kernel>> make_batch_norm(const NodeDesc& node, int32_t, const CpuConfig& config) {
  const Shape& x = node.inputs[kX].shape;
  const float epsilon = node.attrs().get_float("epsilon", kDefaultEpsilon);
  const float* gamma = node.constant(kScale)->data<float>();
  const float* beta = node.constant(kBias)->data<float>();
  const float* mean = node.constant(kMean)->data<float>();
  const float* var = node.constant(kVar)->data<float>();
  std::vector<float> scale(static_cast<size_t>(x[1])), shift(scale.size());
  for (size_t c = 0; c < scale.size(); ++c) {
    // Folded in double so the folding adds no rounding of its own beyond the final one.
    const double s = gamma[c] / std::sqrt(static_cast<double>(var[c]) + epsilon);
    scale[c] = static_cast<float>(s);
    shift[c] = static_cast<float>(beta[c] - mean[c] * s);
  }
  const int64_t plane = x[0] * x[1] == 0 ? 0 : x.numel() / (x[0] * x[1]);
  return std::unique_ptr<Kernel>(
      std::make_unique<BatchNormKernel>(std::move(scale), std::move(shift), x[0], plane, config.threads));
}

}  // namespace

void register_batch_norm_kernels(CpuKernelTable& table) {
  table.add(OpKind::BatchNormalization, {batch_norm_supported, make_batch_norm});
}

}  // namespace kiln::backends::cpu
