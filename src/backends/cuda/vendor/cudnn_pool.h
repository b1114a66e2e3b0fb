// 2-D max and average pooling through cuDNN (NCHW or NHWC). Symmetric padding and floor output
// sizes only: that is what cuDNN's descriptor expresses.
#pragma once

#include <cstdint>
#include <memory>

#include "backends/cuda/vendor/cudnn_conv.h"
#include "backends/cuda/vendor/cudnn_handle.h"
#include "kiln/dtype.h"
#include "kiln/status.h"

namespace kiln::cuda {

enum class PoolMode { kMax, kAverageIncludePad, kAverageExcludePad };

struct PoolConfig {
  DType dtype = DType::kFloat32;
  ConvLayout layout = ConvLayout::kNCHW;
  PoolMode mode = PoolMode::kMax;
  int64_t batch = 0, channels = 0, in_h = 0, in_w = 0;
  int64_t window_h = 1, window_w = 1, pad_h = 0, pad_w = 0, stride_h = 1, stride_w = 1;
  int64_t out_h() const { return (in_h + 2 * pad_h - window_h) / stride_h + 1; }
  int64_t out_w() const { return (in_w + 2 * pad_w - window_w) / stride_w + 1; }
};

class PoolPlan {
 public:
  static Result<PoolPlan> create(std::shared_ptr<CudnnHandle> handle, const PoolConfig& config);
  ~PoolPlan();
  PoolPlan(PoolPlan&& other) noexcept;
  PoolPlan& operator=(PoolPlan&& other) noexcept;
  PoolPlan(const PoolPlan&) = delete;
  PoolPlan& operator=(const PoolPlan&) = delete;

  Status run(const void* x, void* y, cudaStream_t stream) const;

 private:
  struct Descriptors;
  PoolPlan() = default;
  std::shared_ptr<CudnnHandle> handle_;
  std::unique_ptr<Descriptors> desc_;
};

}  // namespace kiln::cuda
