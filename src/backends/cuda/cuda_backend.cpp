#include "backends/cuda/cuda_backend.h"

#include <string>
#include <utility>

#include "backends/cuda/cuda_status.h"
#include "backends/cuda/ops/op_adapter.h"

namespace kiln::cuda {

Result<std::unique_ptr<CudaBackend>> CudaBackend::create(CudaBackendOptions options) {
  if (cuda_device_count() == 0) return unavailable("CudaBackend: no CUDA device");
  auto context = std::make_unique<CudaContext>();
  context->options = options;
  KILN_ASSIGN_OR_RETURN(context->cudnn, CudnnHandle::create());
  KILN_ASSIGN_OR_RETURN(CublasLtHandle lt, CublasLtHandle::create());
  context->cublaslt = std::make_shared<CublasLtHandle>(std::move(lt));
  return std::unique_ptr<CudaBackend>(new CudaBackend(std::move(context)));
}

CudaBackend::CudaBackend(std::unique_ptr<CudaContext> context) : context_(std::move(context)) {}
CudaBackend::~CudaBackend() = default;

Status CudaBackend::check(const backends::NodeDesc& node) const {
  const OpAdapter* adapter = adapter_table().find(node.op);
  if (adapter == nullptr) {
    return unimplemented("no CUDA kernel for " + std::string(op_kind_name(node.op)));
  }
  if (node.attributes == nullptr) return invalid_argument("node '" + node.name + "' has no attribute map");
  return adapter->check(*context_, node);
}

bool CudaBackend::supports(const backends::NodeDesc& node) const { return check(node).ok(); }

std::vector<backends::Tactic> CudaBackend::tactics(const backends::NodeDesc& node) const {
  const OpAdapter* adapter = adapter_table().find(node.op);
  if (adapter == nullptr || adapter->tactics == nullptr || !check(node).ok()) return {{0, "default"}};
  Result<std::vector<backends::Tactic>> found = adapter->tactics(*context_, node);
  if (!found.ok() || found->empty()) return {{0, "default"}};
  return std::move(found).value();
}

Result<std::unique_ptr<backends::Kernel>> CudaBackend::prepare(const backends::NodeDesc& node, int32_t tactic) const {
  const std::string where = "CUDA " + std::string(op_kind_name(node.op)) + " '" + node.name + "'";
  const Status supported = check(node);
  if (!supported.ok()) return supported.with_context(where);
  Result<std::unique_ptr<backends::Kernel>> kernel = adapter_table().find(node.op)->prepare(*context_, node, tactic);
  if (!kernel.ok()) return kernel.status().with_context(where);
  return kernel;
}

}  // namespace kiln::cuda
