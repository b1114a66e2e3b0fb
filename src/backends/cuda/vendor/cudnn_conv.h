// 2-D convolution through cuDNN: y = act(conv(x, w) + bias + z) with act ReLU or identity fused
// by cuDNN (cudnnConvolutionBiasActivationForward), or y = conv(x, w) alone; other activations are
// the caller's (kernels/elementwise.h). Fusing the bias matters for 16-bit storage: adding it
// afterwards rounds the output twice (BF16 then misses 1e-2 on a 7x7 stem). Prepare once (descriptors, algorithm, workspace size),
// then run() only enqueues.
//
// Layouts: NCHW (kiln's graph layout, weights KCRS) or NHWC (channels last, weights KRSC), which
// is where cuDNN's FP16/BF16 tensor-core kernels run without internal transposes.
#pragma once

#include <cudnn.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "backends/cuda/vendor/cudnn_handle.h"
#include "kiln/dtype.h"
#include "kiln/status.h"

namespace kiln::cuda {

enum class ConvLayout { kNCHW, kNHWC };

struct ConvGeometry {
  int64_t batch = 0, in_channels = 0, in_h = 0, in_w = 0;
  int64_t out_channels = 0, kernel_h = 0, kernel_w = 0, groups = 1;
  int64_t pad_h = 0, pad_w = 0, stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  int64_t out_h() const { return (in_h + 2 * pad_h - (dilation_h * (kernel_h - 1) + 1)) / stride_h + 1; }
  int64_t out_w() const { return (in_w + 2 * pad_w - (dilation_w * (kernel_w - 1) + 1)) / stride_w + 1; }
};

// One cuDNN forward algorithm applicable to a problem, with what cuDNN predicts it needs.
struct ConvAlgorithm {
  int32_t id = 0;  // cudnnConvolutionFwdAlgo_t
  std::string name;
  size_t workspace_bytes = 0;
};

enum class ConvFusion {
  kNone,                // y = conv(x, w)
  kBiasResidualRelu,    // y = relu(conv(x, w) + bias + z), any algorithm
  kBiasResidual,        // y = conv(x, w) + bias + z; cuDNN runs this only with implicit_precomp_gemm
};

struct ConvConfig {
  DType dtype = DType::kFloat32;
  ConvLayout layout = ConvLayout::kNCHW;
  ConvGeometry geometry;
  // FP32 storage: let cuDNN use TF32 tensor cores (off: exact FP32 math).
  bool allow_tf32 = false;
  // What cuDNN applies after the convolution (the fused forms need a bias pointer).
  ConvFusion fusion = ConvFusion::kNone;
};

class ConvPlan {
 public:
  // Algorithms cuDNN's heuristic offers for the problem, best predicted first.
  static Result<std::vector<ConvAlgorithm>> algorithms(std::shared_ptr<CudnnHandle> handle, const ConvConfig& config);
  // algorithm: an id from algorithms().
  static Result<ConvPlan> create(std::shared_ptr<CudnnHandle> handle, const ConvConfig& config, int32_t algorithm);
  ~ConvPlan();
  ConvPlan(ConvPlan&& other) noexcept;
  ConvPlan& operator=(ConvPlan&& other) noexcept;
  ConvPlan(const ConvPlan&) = delete;
  ConvPlan& operator=(const ConvPlan&) = delete;

  size_t workspace_bytes() const { return workspace_bytes_; }
  const std::string& algorithm_name() const { return algorithm_name_; }
  // y = conv(x, w), or the fused form of config.fusion (z optional).
  Status run(const void* x, const void* w, const void* bias, const void* z, void* y, void* workspace,
             cudaStream_t stream) const;

 private:
  struct Descriptors;
  ConvPlan() = default;
  std::shared_ptr<CudnnHandle> handle_;
  std::unique_ptr<Descriptors> desc_;
  ConvConfig config_;
  cudnnConvolutionFwdAlgo_t algorithm_ = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
  std::string algorithm_name_;
  size_t workspace_bytes_ = 0;
};

}  // namespace kiln::cuda
