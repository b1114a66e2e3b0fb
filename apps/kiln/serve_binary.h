// The KServe v2 binary tensor data extension: tensor bytes that follow the JSON header of an
// infer request or response instead of JSON arrays. Fixed-size types are raw little-endian
// element bytes; BYTES elements are each a 4-byte little-endian length followed by the bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "kiln/shape.h"
#include "kiln/status.h"
#include "kiln/tensor.h"

namespace kiln::cli::serve {

// The header that carries the JSON length of a request or response with binary tensors.
inline constexpr const char* kInferenceHeaderContentLength = "Inference-Header-Content-Length";

// Received bytes -- an infer body (JSON in [0, json_length), binary tensor data after it) or one
// gRPC raw input -- and what keeps them alive: tensors decoded from them share `owner`.
struct InferBody {
  std::shared_ptr<const void> owner;
  std::string_view bytes;
  size_t json_length = 0;
};

// A body that owns `bytes`, all of it JSON until json_length is set.
InferBody infer_body_of(std::string bytes);

// Decodes `size` bytes at `offset` of body.bytes as a tensor. Fixed-size tensors point into the
// body (no copy) when the bytes are suitably aligned; otherwise, and for BYTES, they are copied.
Result<Tensor> decode_binary_tensor(const std::string& name, DType dtype, const Shape& shape, const InferBody& body,
                                    size_t offset, uint64_t size);

// Appends the binary form of a tensor to `out`; returns the number of bytes appended.
uint64_t append_binary_tensor(const Tensor& tensor, std::string& out);

}  // namespace kiln::cli::serve
