// The CUDA backend: kiln::backends::Backend over the kernels in kernels/ and the cuDNN /
// cuBLASLt wrappers in vendor/. One adapter per op in ops/<op>.cpp maps a NodeDesc (op,
// attributes, tensor descriptions, build-time constants) to a prepared kernel.
//
// Storage dtypes are FP32, FP16 and BF16 (the builder lowers the graph); statistics of Softmax
// and LayerNorm and all matrix/conv accumulation are FP32. Tensors are contiguous row-major in
// the graph's layout (NCHW for convolutions). execute() only enqueues work on args.stream: no
// allocation, no synchronization and no reads of device memory by the host, so the runtime can
// capture a whole engine into one CUDA graph.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "backends/backend.h"
#include "kiln/status.h"

namespace kiln::cuda {

struct CudaBackendOptions {
  // FP32 storage: allow TF32 tensor cores in MatMul/Gemm/Conv (about 1e-3 relative error).
  bool allow_tf32 = false;
};

struct CudaContext;

class CudaBackend final : public backends::Backend {
 public:
  // Fails without a usable GPU (cuDNN and cuBLASLt handles are created here).
  static Result<std::unique_ptr<CudaBackend>> create(CudaBackendOptions options = {});
  ~CudaBackend() override;

  std::string_view name() const override { return "cuda"; }
  backends::DeviceKind device() const override { return backends::DeviceKind::kCuda; }
  bool supports(const backends::NodeDesc& node) const override;
  // Why supports() is false: the adapter's first complaint, or "no CUDA kernel for <op>".
  Status check(const backends::NodeDesc& node) const;
  std::vector<backends::Tactic> tactics(const backends::NodeDesc& node) const override;
  Result<std::unique_ptr<backends::Kernel>> prepare(const backends::NodeDesc& node, int32_t tactic) const override;

 private:
  explicit CudaBackend(std::unique_ptr<CudaContext> context);
  std::unique_ptr<CudaContext> context_;
};

}  // namespace kiln::cuda
