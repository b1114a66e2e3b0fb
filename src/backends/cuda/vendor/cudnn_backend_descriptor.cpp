#include "backends/cuda/vendor/cudnn_backend_descriptor.h"

#include <array>
#include <utility>

namespace kiln::cuda {
namespace {

const char* descriptor_type_name(cudnnBackendDescriptorType_t type) {
  switch (type) {
    case CUDNN_BACKEND_POINTWISE_DESCRIPTOR: return "POINTWISE";
    case CUDNN_BACKEND_CONVOLUTION_DESCRIPTOR: return "CONVOLUTION";
    case CUDNN_BACKEND_ENGINE_DESCRIPTOR: return "ENGINE";
    case CUDNN_BACKEND_ENGINECFG_DESCRIPTOR: return "ENGINECFG";
    case CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR: return "ENGINEHEUR";
    case CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR: return "EXECUTION_PLAN";
    case CUDNN_BACKEND_KNOB_CHOICE_DESCRIPTOR: return "KNOB_CHOICE";
    case CUDNN_BACKEND_OPERATION_CONVOLUTION_FORWARD_DESCRIPTOR: return "OPERATION_CONVOLUTION_FORWARD";
    case CUDNN_BACKEND_OPERATION_POINTWISE_DESCRIPTOR: return "OPERATION_POINTWISE";
    case CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR: return "OPERATIONGRAPH";
    case CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR: return "VARIANT_PACK";
    case CUDNN_BACKEND_TENSOR_DESCRIPTOR: return "TENSOR";
    default: return "backend";
  }
}

}  // namespace

Status cudnn_backend_status(cudnnStatus_t status, const std::string& what) {
  if (status == CUDNN_STATUS_SUCCESS) return Status::ok_status();
  // cuDNN 9 keeps a per-thread message for the last failing call: usually which attribute or
  // which engine constraint was the problem, where the status code alone says BAD_PARAM.
  std::array<char, 1024> last{};
  cudnnGetLastErrorString(last.data(), last.size());
  std::string message = what + ": " + cudnnGetErrorString(status);
  if (last[0] != '\0') message += std::string(" (") + last.data() + ")";
  return internal_error(std::move(message));
}

Result<BackendDescriptor> BackendDescriptor::create(cudnnBackendDescriptorType_t type) {
  BackendDescriptor d(type);
  KILN_RETURN_IF_ERROR(cudnn_backend_status(cudnnBackendCreateDescriptor(type, &d.desc_),
                                            std::string("cudnnBackendCreateDescriptor(") + descriptor_type_name(type) + ")"));
  return d;
}

BackendDescriptor::~BackendDescriptor() {
  if (desc_ != nullptr) (void)cudnnBackendDestroyDescriptor(desc_);
}

BackendDescriptor::BackendDescriptor(BackendDescriptor&& other) noexcept
    : desc_(std::exchange(other.desc_, nullptr)), type_(other.type_) {}

BackendDescriptor& BackendDescriptor::operator=(BackendDescriptor&& other) noexcept {
  if (this != &other) {
    if (desc_ != nullptr) (void)cudnnBackendDestroyDescriptor(desc_);
    desc_ = std::exchange(other.desc_, nullptr);
    type_ = other.type_;
  }
  return *this;
}

std::string BackendDescriptor::describe(const char* call, const char* name_text) const {
  std::string s = std::string(call) + "(" + descriptor_type_name(type_);
  if (name_text != nullptr) s += std::string(", ") + name_text;
  return s + ")";
}

Status BackendDescriptor::set(cudnnBackendAttributeName_t name, const char* name_text, cudnnBackendAttributeType_t type, int64_t count,
                              const void* values) {
  if (desc_ == nullptr) return failed_precondition(describe("cudnnBackendSetAttribute", name_text) + " on an empty descriptor");
  return cudnn_backend_status(cudnnBackendSetAttribute(desc_, name, type, count, values), describe("cudnnBackendSetAttribute", name_text));
}

Status BackendDescriptor::set_descriptor(cudnnBackendAttributeName_t name, const char* name_text, const BackendDescriptor& value) {
  const cudnnBackendDescriptor_t raw = value.get();
  return set(name, name_text, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &raw);
}

Status BackendDescriptor::finalize() {
  if (desc_ == nullptr) return failed_precondition(describe("cudnnBackendFinalize", nullptr) + " on an empty descriptor");
  return cudnn_backend_status(cudnnBackendFinalize(desc_), describe("cudnnBackendFinalize", nullptr));
}

Status BackendDescriptor::get(cudnnBackendAttributeName_t name, const char* name_text, cudnnBackendAttributeType_t type, int64_t requested,
                              int64_t* returned, void* values) const {
  if (desc_ == nullptr) return failed_precondition(describe("cudnnBackendGetAttribute", name_text) + " on an empty descriptor");
  return cudnn_backend_status(cudnnBackendGetAttribute(desc_, name, type, requested, returned, values),
                              describe("cudnnBackendGetAttribute", name_text));
}

Result<int64_t> BackendDescriptor::get_int64(cudnnBackendAttributeName_t name, const char* name_text) const {
  int64_t value = 0, returned = 0;
  KILN_RETURN_IF_ERROR(get(name, name_text, CUDNN_TYPE_INT64, 1, &returned, &value));
  if (returned != 1) return internal_error(describe("cudnnBackendGetAttribute", name_text) + ": no value returned");
  return value;
}

Result<DescriptorArray> DescriptorArray::create(cudnnBackendDescriptorType_t type, size_t count) {
  DescriptorArray a;
  a.owned.reserve(count);
  a.raw.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    KILN_ASSIGN_OR_RETURN(BackendDescriptor d, BackendDescriptor::create(type));
    a.raw.push_back(d.get());
    a.owned.push_back(std::move(d));
  }
  return a;
}

}  // namespace kiln::cuda
