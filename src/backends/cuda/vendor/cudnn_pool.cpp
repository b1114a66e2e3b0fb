#include "backends/cuda/vendor/cudnn_pool.h"

#include <limits>
#include <utility>

namespace kiln::cuda {

struct PoolPlan::Descriptors {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnPoolingDescriptor_t pool = nullptr;
  ~Descriptors() {
    if (pool != nullptr) (void)cudnnDestroyPoolingDescriptor(pool);
    if (y != nullptr) (void)cudnnDestroyTensorDescriptor(y);
    if (x != nullptr) (void)cudnnDestroyTensorDescriptor(x);
  }
};

Result<PoolPlan> PoolPlan::create(std::shared_ptr<CudnnHandle> handle, const PoolConfig& c) {
  constexpr int64_t kIntMax = std::numeric_limits<int>::max();
  for (int64_t v : {c.batch, c.channels, c.in_h, c.in_w, c.window_h, c.window_w, c.stride_h, c.stride_w}) {
    if (v <= 0 || v > kIntMax) return invalid_argument("PoolPlan: sizes, windows and strides must be positive ints");
  }
  if (c.pad_h < 0 || c.pad_w < 0 || c.pad_h >= c.window_h || c.pad_w >= c.window_w) {
    return invalid_argument("PoolPlan: padding must be non-negative and smaller than the window");
  }
  if (c.out_h() <= 0 || c.out_w() <= 0) return invalid_argument("PoolPlan: the window does not fit in the padded input");
  KILN_ASSIGN_OR_RETURN(const cudnnDataType_t type, cudnn_data_type(c.dtype));
  const cudnnTensorFormat_t format = c.layout == ConvLayout::kNHWC ? CUDNN_TENSOR_NHWC : CUDNN_TENSOR_NCHW;
  const cudnnPoolingMode_t mode = c.mode == PoolMode::kMax                 ? CUDNN_POOLING_MAX
                                  : c.mode == PoolMode::kAverageIncludePad ? CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING
                                                                           : CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING;
  const auto i = [](int64_t v) { return static_cast<int>(v); };
  PoolPlan plan;
  plan.handle_ = std::move(handle);
  plan.desc_ = std::make_unique<Descriptors>();
  Descriptors& d = *plan.desc_;
  KILN_RETURN_IF_ERROR(cudnn_status(cudnnCreateTensorDescriptor(&d.x), "cudnnCreateTensorDescriptor"));
  KILN_RETURN_IF_ERROR(cudnn_status(cudnnCreateTensorDescriptor(&d.y), "cudnnCreateTensorDescriptor"));
  KILN_RETURN_IF_ERROR(cudnn_status(cudnnCreatePoolingDescriptor(&d.pool), "cudnnCreatePoolingDescriptor"));
  KILN_RETURN_IF_ERROR(cudnn_status(cudnnSetTensor4dDescriptor(d.x, format, type, i(c.batch), i(c.channels), i(c.in_h), i(c.in_w)),
                                    "cudnnSetTensor4dDescriptor(x)"));
  KILN_RETURN_IF_ERROR(cudnn_status(cudnnSetTensor4dDescriptor(d.y, format, type, i(c.batch), i(c.channels), i(c.out_h()), i(c.out_w())),
                                    "cudnnSetTensor4dDescriptor(y)"));
  KILN_RETURN_IF_ERROR(cudnn_status(cudnnSetPooling2dDescriptor(d.pool, mode, CUDNN_PROPAGATE_NAN, i(c.window_h), i(c.window_w),
                                                                i(c.pad_h), i(c.pad_w), i(c.stride_h), i(c.stride_w)),
                                    "cudnnSetPooling2dDescriptor"));
  return plan;
}

PoolPlan::~PoolPlan() = default;
PoolPlan::PoolPlan(PoolPlan&& other) noexcept = default;
PoolPlan& PoolPlan::operator=(PoolPlan&& other) noexcept = default;

Status PoolPlan::run(const void* x, void* y, cudaStream_t stream) const {
  if (desc_ == nullptr) return failed_precondition("PoolPlan::run on an empty (moved-from) plan");
  constexpr float kOne = 1.0f, kZero = 0.0f;
  return handle_->on_stream(stream, [&](cudnnHandle_t h) {
    return cudnn_status(cudnnPoolingForward(h, desc_->pool, &kOne, desc_->x, x, &kZero, desc_->y, y), "cudnnPoolingForward");
  });
}

}  // namespace kiln::cuda
