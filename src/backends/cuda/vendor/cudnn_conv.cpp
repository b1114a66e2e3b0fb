#include "backends/cuda/vendor/cudnn_conv.h"

#include <array>
#include <limits>
#include <utility>

namespace kiln::cuda {
namespace {

const char* cudnn_algorithm_name(cudnnConvolutionFwdAlgo_t algo) {
  switch (algo) {
    case CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM: return "implicit_gemm";
    case CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM: return "implicit_precomp_gemm";
    case CUDNN_CONVOLUTION_FWD_ALGO_GEMM: return "gemm";
    case CUDNN_CONVOLUTION_FWD_ALGO_DIRECT: return "direct";
    case CUDNN_CONVOLUTION_FWD_ALGO_FFT: return "fft";
    case CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING: return "fft_tiling";
    case CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD: return "winograd";
    case CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED: return "winograd_nonfused";
    default: return "unknown";
  }
}

// The only algorithm cudnnConvolutionBiasActivationForward runs with an identity activation.
constexpr cudnnConvolutionFwdAlgo_t kIdentityFusionAlgorithm = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM;

Status validate(const ConvConfig& c) {
  const ConvGeometry& g = c.geometry;
  constexpr int64_t kIntMax = std::numeric_limits<int>::max();
  for (int64_t v : {g.batch, g.in_channels, g.in_h, g.in_w, g.out_channels, g.kernel_h, g.kernel_w, g.groups, g.stride_h,
                    g.stride_w, g.dilation_h, g.dilation_w}) {
    if (v <= 0 || v > kIntMax) return invalid_argument("ConvPlan: sizes, strides, dilations and groups must be positive ints");
  }
  if (g.pad_h < 0 || g.pad_w < 0 || g.pad_h > kIntMax || g.pad_w > kIntMax) return invalid_argument("ConvPlan: negative padding");
  if (g.in_channels % g.groups != 0 || g.out_channels % g.groups != 0) {
    return invalid_argument("ConvPlan: channels " + std::to_string(g.in_channels) + " -> " + std::to_string(g.out_channels) +
                            " do not divide into " + std::to_string(g.groups) + " groups");
  }
  if (g.out_h() <= 0 || g.out_w() <= 0) return invalid_argument("ConvPlan: the window does not fit in the padded input");
  return Status::ok_status();
}

}  // namespace

struct ConvPlan::Descriptors {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr, bias = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  cudnnActivationDescriptor_t activation = nullptr;

  ~Descriptors() {
    if (activation != nullptr) (void)cudnnDestroyActivationDescriptor(activation);
    if (conv != nullptr) (void)cudnnDestroyConvolutionDescriptor(conv);
    if (w != nullptr) (void)cudnnDestroyFilterDescriptor(w);
    if (bias != nullptr) (void)cudnnDestroyTensorDescriptor(bias);
    if (y != nullptr) (void)cudnnDestroyTensorDescriptor(y);
    if (x != nullptr) (void)cudnnDestroyTensorDescriptor(x);
  }

  static Result<std::unique_ptr<Descriptors>> make(const ConvConfig& c) {
    KILN_RETURN_IF_ERROR(validate(c));
    KILN_ASSIGN_OR_RETURN(const cudnnDataType_t type, cudnn_data_type(c.dtype));
    const ConvGeometry& g = c.geometry;
    const cudnnTensorFormat_t format = c.layout == ConvLayout::kNHWC ? CUDNN_TENSOR_NHWC : CUDNN_TENSOR_NCHW;
    auto d = std::make_unique<Descriptors>();
    const auto i = [](int64_t v) { return static_cast<int>(v); };
    KILN_RETURN_IF_ERROR(cudnn_status(cudnnCreateTensorDescriptor(&d->x), "cudnnCreateTensorDescriptor"));
    KILN_RETURN_IF_ERROR(cudnn_status(cudnnCreateTensorDescriptor(&d->y), "cudnnCreateTensorDescriptor"));
    KILN_RETURN_IF_ERROR(cudnn_status(cudnnCreateTensorDescriptor(&d->bias), "cudnnCreateTensorDescriptor"));
    KILN_RETURN_IF_ERROR(cudnn_status(cudnnCreateFilterDescriptor(&d->w), "cudnnCreateFilterDescriptor"));
    KILN_RETURN_IF_ERROR(cudnn_status(cudnnCreateConvolutionDescriptor(&d->conv), "cudnnCreateConvolutionDescriptor"));
    KILN_RETURN_IF_ERROR(cudnn_status(cudnnCreateActivationDescriptor(&d->activation), "cudnnCreateActivationDescriptor"));
    KILN_RETURN_IF_ERROR(cudnn_status(cudnnSetTensor4dDescriptor(d->x, format, type, i(g.batch), i(g.in_channels), i(g.in_h), i(g.in_w)),
                                      "cudnnSetTensor4dDescriptor(x)"));
    KILN_RETURN_IF_ERROR(cudnn_status(cudnnSetTensor4dDescriptor(d->y, format, type, i(g.batch), i(g.out_channels), i(g.out_h()), i(g.out_w())),
                                      "cudnnSetTensor4dDescriptor(y)"));
    KILN_RETURN_IF_ERROR(cudnn_status(cudnnSetTensor4dDescriptor(d->bias, format, type, 1, i(g.out_channels), 1, 1),
                                      "cudnnSetTensor4dDescriptor(bias)"));
    KILN_RETURN_IF_ERROR(cudnn_status(cudnnSetFilter4dDescriptor(d->w, type, format, i(g.out_channels), i(g.in_channels / g.groups),
                                                                 i(g.kernel_h), i(g.kernel_w)),
                                      "cudnnSetFilter4dDescriptor"));
    KILN_RETURN_IF_ERROR(cudnn_status(cudnnSetConvolution2dDescriptor(d->conv, i(g.pad_h), i(g.pad_w), i(g.stride_h), i(g.stride_w),
                                                                      i(g.dilation_h), i(g.dilation_w), CUDNN_CROSS_CORRELATION,
                                                                      CUDNN_DATA_FLOAT),
                                      "cudnnSetConvolution2dDescriptor"));
    KILN_RETURN_IF_ERROR(cudnn_status(cudnnSetConvolutionGroupCount(d->conv, i(g.groups)), "cudnnSetConvolutionGroupCount"));
    const cudnnMathType_t math = c.dtype != DType::kFloat32 ? CUDNN_TENSOR_OP_MATH
                                 : c.allow_tf32             ? CUDNN_DEFAULT_MATH
                                                            : CUDNN_FMA_MATH;
    KILN_RETURN_IF_ERROR(cudnn_status(cudnnSetConvolutionMathType(d->conv, math), "cudnnSetConvolutionMathType"));
    const cudnnActivationMode_t mode = c.fusion == ConvFusion::kBiasResidual ? CUDNN_ACTIVATION_IDENTITY : CUDNN_ACTIVATION_RELU;
    KILN_RETURN_IF_ERROR(cudnn_status(cudnnSetActivationDescriptor(d->activation, mode, CUDNN_NOT_PROPAGATE_NAN, 0.0),
                                      "cudnnSetActivationDescriptor"));
    return d;
  }
};

Result<std::vector<ConvAlgorithm>> ConvPlan::algorithms(std::shared_ptr<CudnnHandle> handle, const ConvConfig& config) {
  KILN_ASSIGN_OR_RETURN(std::unique_ptr<Descriptors> d, Descriptors::make(config));
  std::array<cudnnConvolutionFwdAlgoPerf_t, CUDNN_CONVOLUTION_FWD_ALGO_COUNT> results{};
  int returned = 0;
  KILN_RETURN_IF_ERROR(cudnn_status(cudnnGetConvolutionForwardAlgorithm_v7(handle->get(), d->x, d->w, d->conv, d->y,
                                                                           static_cast<int>(results.size()), &returned,
                                                                           results.data()),
                                    "cudnnGetConvolutionForwardAlgorithm_v7"));
  std::vector<ConvAlgorithm> found;
  for (int r = 0; r < returned; ++r) {
    const cudnnConvolutionFwdAlgoPerf_t& perf = results[static_cast<size_t>(r)];
    if (perf.status != CUDNN_STATUS_SUCCESS) continue;
    // The heuristic may report an algorithm under a math type other than the one asked for
    // (FP32 problems offered TF32 kernels); those would change the precision.
    if (config.dtype == DType::kFloat32 && !config.allow_tf32 && perf.mathType == CUDNN_TENSOR_OP_MATH) continue;
    // Winograd's transforms cost FP32 about 2e-5 relative error, over the FP32 bound.
    if (config.dtype == DType::kFloat32 &&
        (perf.algo == CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD || perf.algo == CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED)) {
      continue;
    }
    if (config.fusion == ConvFusion::kBiasResidual && perf.algo != kIdentityFusionAlgorithm) continue;
    // Workspace size for the math type the plan will set, which may differ from the heuristic's.
    size_t bytes = 0;
    if (cudnnGetConvolutionForwardWorkspaceSize(handle->get(), d->x, d->w, d->conv, d->y, perf.algo, &bytes) != CUDNN_STATUS_SUCCESS) continue;
    found.push_back({static_cast<int32_t>(perf.algo), std::string("cudnn ") + cudnn_algorithm_name(perf.algo), bytes});
  }
  if (found.empty() && config.fusion == ConvFusion::kBiasResidual) {
    size_t bytes = 0;
    KILN_RETURN_IF_ERROR(cudnn_status(cudnnGetConvolutionForwardWorkspaceSize(handle->get(), d->x, d->w, d->conv, d->y,
                                                                              kIdentityFusionAlgorithm, &bytes),
                                      "cudnnGetConvolutionForwardWorkspaceSize"));
    found.push_back({static_cast<int32_t>(kIdentityFusionAlgorithm), std::string("cudnn ") + cudnn_algorithm_name(kIdentityFusionAlgorithm), bytes});
  }
  if (found.empty()) return unimplemented("ConvPlan: cuDNN offers no forward algorithm for this convolution");
  return found;
}

Result<ConvPlan> ConvPlan::create(std::shared_ptr<CudnnHandle> handle, const ConvConfig& config, int32_t algorithm) {
  if (algorithm < 0 || algorithm >= CUDNN_CONVOLUTION_FWD_ALGO_COUNT) {
    return invalid_argument("ConvPlan: unknown cuDNN algorithm " + std::to_string(algorithm));
  }
  ConvPlan plan;
  KILN_ASSIGN_OR_RETURN(plan.desc_, Descriptors::make(config));
  plan.handle_ = std::move(handle);
  plan.config_ = config;
  plan.algorithm_ = config.fusion == ConvFusion::kBiasResidual ? kIdentityFusionAlgorithm
                                                               : static_cast<cudnnConvolutionFwdAlgo_t>(algorithm);
  plan.algorithm_name_ = std::string("cudnn ") + cudnn_algorithm_name(plan.algorithm_);
  KILN_RETURN_IF_ERROR(cudnn_status(cudnnGetConvolutionForwardWorkspaceSize(plan.handle_->get(), plan.desc_->x, plan.desc_->w,
                                                                            plan.desc_->conv, plan.desc_->y, plan.algorithm_,
                                                                            &plan.workspace_bytes_),
                                    "cudnnGetConvolutionForwardWorkspaceSize"));
  return plan;
}

ConvPlan::~ConvPlan() = default;
ConvPlan::ConvPlan(ConvPlan&& other) noexcept = default;
ConvPlan& ConvPlan::operator=(ConvPlan&& other) noexcept = default;

Status ConvPlan::run(const void* x, const void* w, const void* bias, const void* z, void* y, void* workspace,
                     cudaStream_t stream) const {
  if (desc_ == nullptr) return failed_precondition("ConvPlan::run on an empty (moved-from) plan");
  if (workspace_bytes_ > 0 && workspace == nullptr) {
    return invalid_argument("ConvPlan::run: the plan needs " + std::to_string(workspace_bytes_) + " bytes of workspace");
  }
  if (config_.fusion != ConvFusion::kNone && bias == nullptr) return invalid_argument("ConvPlan::run: the fused path needs a bias");
  // alpha/beta are float for every storage type cuDNN supports here (FP32 compute).
  constexpr float kOne = 1.0f, kZero = 0.0f;
  return handle_->on_stream(stream, [&](cudnnHandle_t h) {
    if (config_.fusion == ConvFusion::kNone) {
      return cudnn_status(cudnnConvolutionForward(h, &kOne, desc_->x, x, desc_->w, w, desc_->conv, algorithm_, workspace,
                                                  workspace_bytes_, &kZero, desc_->y, y),
                          "cudnnConvolutionForward");
    }
    // z = y with alpha2 = 0 when there is no residual: cuDNN wants a valid pointer either way.
    const float alpha2 = z != nullptr ? 1.0f : 0.0f;
    return cudnn_status(cudnnConvolutionBiasActivationForward(h, &kOne, desc_->x, x, desc_->w, w, desc_->conv, algorithm_, workspace,
                                                              workspace_bytes_, &alpha2, desc_->y, z != nullptr ? z : y,
                                                              desc_->bias, bias, desc_->activation, desc_->y, y),
                        "cudnnConvolutionBiasActivationForward");
  });
}

}  // namespace kiln::cuda
