// 2-D convolution through cuDNN's graph (backend) API: one operation graph per problem,
//
//     conv_fwd(X, W) -> [+ bias[1,K,1,1]] -> [+ Z] -> [activation] -> Y
//
// with FP32 compute, the intermediate results virtual FP32 tensors (never stored) and X, W, bias,
// Z, Y in the storage dtype. cuDNN's heuristics (mode A, then the fallback list) propose engine
// configurations; each one whose execution plan finalizes is one tactic. This reaches the
// engines PyTorch uses (runtime-fused conv + epilogue kernels, NHWC tensor-core kernels) that
// the legacy cudnnConvolution*Forward entry points do not offer.
//
// Tactic ids. The plan file stores only the id, and the runtime rebuilds the kernel on the same
// GPU and cuDNN: the id names the engine configuration itself, not its place in a list:
//     id = kConvGraphTacticBase | engine global index << 20 | 20-bit fingerprint of the knob choices
// create() re-runs the same heuristics and takes the first configuration with that engine and
// fingerprint (an error if none: another cuDNN, or another GPU, than the plan was built for).
//
// run() only enqueues: a variant pack (the five data pointers and the workspace, by fixed tensor
// uid) made per call, then cudnnBackendExecute under the handle's lock with the handle bound to
// the caller's stream. Nothing is allocated on the device or synchronized, so a CUDA graph
// capture records it like any other launch. Planning (heuristics, finalization) takes the same
// lock: the handle is shared by every kernel of a backend.
#pragma once

#include <cudnn.h>
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "backends/cuda/vendor/cudnn_conv.h"
#include "backends/cuda/vendor/cudnn_handle.h"
#include "kiln/dtype.h"
#include "kiln/status.h"

namespace kiln::cuda {

// The activations cuDNN's pointwise operation computes exactly as kiln's kernels do.
enum class GraphActivation { kNone, kRelu, kSigmoid, kTanh, kGeluErf, kGeluTanh };

struct ConvGraphConfig {
  DType dtype = DType::kFloat32;
  ConvLayout layout = ConvLayout::kNCHW;  // X, W (KCRS or KRSC), Z and Y
  ConvGeometry geometry;
  bool allow_tf32 = false;  // FP32 storage: engines with tensor cores (TF32) allowed
  bool has_bias = false;    // bias: one value per output channel
  bool has_residual = false;  // Z: Y's shape and layout
  GraphActivation activation = GraphActivation::kNone;
};

// Above every legacy cudnnConvolutionFwdAlgo_t (0..7), below INT32_MAX with 30 bits to spare.
inline constexpr int32_t kConvGraphTacticBase = int32_t{1} << 30;
inline bool is_conv_graph_tactic(int32_t tactic) { return tactic >= kConvGraphTacticBase; }

// Configurations that ask for more workspace are not offered (FFT engines can ask for GiBs;
// every execution context holds the largest workspace of its engine).
inline constexpr size_t kConvGraphWorkspaceLimit = size_t{256} << 20;

struct ConvGraphEngine {
  int32_t tactic = 0;
  std::string name;  // "cudnn graph engine 12 (heuristic A #0, knobs 3f2a1)"
  size_t workspace_bytes = 0;
};

class ConvGraphPlan {
 public:
  // Every engine configuration whose plan finalizes, heuristic A's first then the fallback's;
  // an error when cuDNN builds no graph for the problem or offers no engine for it.
  static Result<std::vector<ConvGraphEngine>> engines(std::shared_ptr<CudnnHandle> handle, const ConvGraphConfig& config);
  // The plan of one tactic id from engines() (here or in an earlier process).
  static Result<ConvGraphPlan> create(std::shared_ptr<CudnnHandle> handle, const ConvGraphConfig& config, int32_t tactic);

  ~ConvGraphPlan();
  ConvGraphPlan(ConvGraphPlan&& other) noexcept;
  ConvGraphPlan& operator=(ConvGraphPlan&& other) noexcept;
  ConvGraphPlan(const ConvGraphPlan&) = delete;
  ConvGraphPlan& operator=(const ConvGraphPlan&) = delete;

  size_t workspace_bytes() const { return workspace_bytes_; }
  const std::string& name() const { return name_; }
  // y = act(conv(x, w) + bias + z); bias and z only when the config has them. Every pointer
  // 16-byte aligned (the alignment the tensors were declared with).
  Status run(const void* x, const void* w, const void* bias, const void* z, void* y, void* workspace, cudaStream_t stream) const;

 private:
  struct State;
  ConvGraphPlan() = default;
  std::shared_ptr<CudnnHandle> handle_;
  std::unique_ptr<State> state_;
  ConvGraphConfig config_;
  std::string name_;
  size_t workspace_bytes_ = 0;
};

}  // namespace kiln::cuda
