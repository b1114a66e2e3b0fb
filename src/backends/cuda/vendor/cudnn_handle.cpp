#include "backends/cuda/vendor/cudnn_handle.h"

namespace kiln::cuda {

Status cudnn_status(cudnnStatus_t status, const char* what) {
  if (status == CUDNN_STATUS_SUCCESS) return Status::ok_status();
  return internal_error(std::string(what) + ": " + cudnnGetErrorString(status));
}

Result<cudnnDataType_t> cudnn_data_type(DType dtype) {
  switch (dtype) {
    case DType::kFloat32: return CUDNN_DATA_FLOAT;
    case DType::kFloat16: return CUDNN_DATA_HALF;
    case DType::kBFloat16: return CUDNN_DATA_BFLOAT16;
    default: return unimplemented("cuDNN: float32, float16 and bfloat16 only, not " + std::string(dtype_name(dtype)));
  }
}

Result<std::shared_ptr<CudnnHandle>> CudnnHandle::create() {
  std::shared_ptr<CudnnHandle> handle(new CudnnHandle());
  KILN_RETURN_IF_ERROR(cudnn_status(cudnnCreate(&handle->handle_), "cudnnCreate"));
  return handle;
}

CudnnHandle::~CudnnHandle() {
  if (handle_ != nullptr) (void)cudnnDestroy(handle_);
}

}  // namespace kiln::cuda
