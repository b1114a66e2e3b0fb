// RAII over one cuDNN backend (graph API) descriptor, cudnnBackendDescriptor_t, with setters and
// getters that turn a failing call into a Status naming the call, the attribute and cuDNN's own
// explanation (cudnnGetLastErrorString). The graph API reports most mistakes (a wrong attribute
// type or count, an unsupported fusion) only as CUDNN_STATUS_BAD_PARAM or NOT_SUPPORTED at
// finalize time; the last-error string is what makes such a log debuggable.
//
// KILN_CUDNN_ATTR(CUDNN_ATTR_TENSOR_DIMENSIONS) expands to the enumerator and its spelling, so
// that every call site names its attribute in errors without a hand-written string.
#pragma once

#include <cudnn.h>

#include <cstdint>
#include <string>
#include <vector>

#include "kiln/status.h"

#define KILN_CUDNN_ATTR(attribute) attribute, #attribute

namespace kiln::cuda {

// `status` as a kiln Status: "<what>: CUDNN_STATUS_... (<cuDNN's last error message>)".
Status cudnn_backend_status(cudnnStatus_t status, const std::string& what);

class BackendDescriptor {
 public:
  BackendDescriptor() = default;
  static Result<BackendDescriptor> create(cudnnBackendDescriptorType_t type);
  ~BackendDescriptor();
  BackendDescriptor(BackendDescriptor&& other) noexcept;
  BackendDescriptor& operator=(BackendDescriptor&& other) noexcept;
  BackendDescriptor(const BackendDescriptor&) = delete;
  BackendDescriptor& operator=(const BackendDescriptor&) = delete;

  cudnnBackendDescriptor_t get() const { return desc_; }

  // cudnnBackendSetAttribute with `count` elements of `type` at `values`.
  Status set(cudnnBackendAttributeName_t name, const char* name_text, cudnnBackendAttributeType_t type, int64_t count,
             const void* values);
  template <class T>
  Status set_value(cudnnBackendAttributeName_t name, const char* name_text, cudnnBackendAttributeType_t type, const T& value) {
    return set(name, name_text, type, 1, &value);
  }
  template <class T>
  Status set_values(cudnnBackendAttributeName_t name, const char* name_text, cudnnBackendAttributeType_t type,
                    const std::vector<T>& values) {
    return set(name, name_text, type, static_cast<int64_t>(values.size()), values.data());
  }
  // One descriptor-valued attribute (an operation's tensor, a plan's engine config).
  Status set_descriptor(cudnnBackendAttributeName_t name, const char* name_text, const BackendDescriptor& value);

  Status finalize();

  // cudnnBackendGetAttribute: up to `requested` elements into `values`; *returned gets the count.
  Status get(cudnnBackendAttributeName_t name, const char* name_text, cudnnBackendAttributeType_t type, int64_t requested,
             int64_t* returned, void* values) const;
  Result<int64_t> get_int64(cudnnBackendAttributeName_t name, const char* name_text) const;

 private:
  explicit BackendDescriptor(cudnnBackendDescriptorType_t type) : type_(type) {}
  std::string describe(const char* call, const char* name_text) const;
  cudnnBackendDescriptor_t desc_ = nullptr;
  cudnnBackendDescriptorType_t type_ = CUDNN_BACKEND_POINTWISE_DESCRIPTOR;
};

// `count` descriptors of one type, created for cudnnBackendGetAttribute to fill in (the graph
// API returns descriptor-valued attributes into descriptors the caller made), plus the raw
// handle array that call wants.
struct DescriptorArray {
  std::vector<BackendDescriptor> owned;
  std::vector<cudnnBackendDescriptor_t> raw;
  static Result<DescriptorArray> create(cudnnBackendDescriptorType_t type, size_t count);
};

}  // namespace kiln::cuda
