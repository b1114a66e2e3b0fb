// LayerNormalization over the trailing axes from `axis`, with Scale and (optional) B of the
// normalized shape. The optional Mean / InvStdDev outputs are not produced here: nodes that use
// them go to the reference backend.
#include <string>

#include "backends/cpu/kernel_table.h"
#include "backends/cpu/parallel.h"
#include "backends/cpu/row_math.h"
#include "core/norm_params.h"

namespace kiln::backends::cpu {
namespace {

enum LayerNormInput : size_t { kX = 0, kScale = 1, kBias = 2 };
constexpr float kDefaultEpsilon = 1e-5f;

struct LayerNormGeometry {
  int64_t rows = 1, cols = 1;
};

Result<LayerNormGeometry> layer_norm_geometry(const NodeDesc& node) {
  const Shape& x = node.inputs[kX].shape;
  KILN_ASSIGN_OR_RETURN(size_t axis, layer_norm_first_axis(node.attrs(), x.rank()));
  LayerNormGeometry g;
  for (size_t d = 0; d < axis; ++d) g.rows *= x[d];
  for (size_t d = axis; d < x.rank(); ++d) g.cols *= x[d];
  return g;
}

bool layer_norm_supported(const NodeDesc& node) {
  if (node.inputs.size() < 2 || node.outputs.empty() || !node.outputs[0].present()) return false;
  for (size_t i = 1; i < node.outputs.size(); ++i)
    if (node.outputs[i].present()) return false;
  for (const TensorDesc& t : node.inputs)
    if (t.present() && t.dtype != DType::kFloat32) return false;
  auto g = layer_norm_geometry(node);
  if (!g.ok() || node.outputs[0].shape != node.inputs[kX].shape) return false;
  // Scale and B must cover the normalized shape exactly (no broadcasting inside it).
  if (node.inputs[kScale].shape.numel() != g->cols) return false;
  return node.inputs.size() <= kBias || !node.inputs[kBias].present() || node.inputs[kBias].shape.numel() == g->cols;
}

class LayerNormKernel final : public Kernel {
 public:
  LayerNormKernel(LayerNormGeometry g, float epsilon, bool has_bias, int threads)
      : g_(g), epsilon_(epsilon), has_bias_(has_bias), threads_(threads) {}
  std::string describe() const override { return "cpu vectorized layer norm"; }
  Status execute(const ExecuteArgs& args) const override {
    const auto* x = static_cast<const float*>(args.inputs[kX]);
    const auto* gamma = static_cast<const float*>(args.inputs[kScale]);
    const auto* beta = has_bias_ ? static_cast<const float*>(args.inputs[kBias]) : nullptr;
    auto* y = static_cast<float*>(args.outputs[0]);
    const int64_t cols = g_.cols;
    parallel_for(g_.rows, 8, threads_, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) layer_norm_row(x + r * cols, gamma, beta, epsilon_, y + r * cols, cols);
    });
    return Status::ok_status();
  }

 private:
  LayerNormGeometry g_;
  float epsilon_;
  bool has_bias_;
  int threads_;
};

Result<std::unique_ptr<Kernel>> make_layer_norm(const NodeDesc& node, int32_t, const CpuConfig& config) {
  KILN_ASSIGN_OR_RETURN(LayerNormGeometry g, layer_norm_geometry(node));
  const bool has_bias = node.inputs.size() > kBias && node.inputs[kBias].present();
  return std::unique_ptr<Kernel>(std::make_unique<LayerNormKernel>(
      g, node.attrs().get_float("epsilon", kDefaultEpsilon), has_bias, config.threads));
}

}  // namespace

void register_layer_norm_kernels(CpuKernelTable& table) {
  table.add(OpKind::LayerNormalization, {layer_norm_supported, make_layer_norm});
}

}  // namespace kiln::backends::cpu
