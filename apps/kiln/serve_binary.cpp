#include "serve_binary.h"

#include <cstring>
#include <limits>
#include <optional>

#include "serving/datatype.h"

namespace kiln::cli::serve {
namespace {

constexpr size_t kLengthPrefixBytes = 4;
constexpr unsigned kBitsPerByte = 8;

uint32_t read_le32(const char* p) {
  uint32_t value = 0;
  for (size_t i = 0; i < kLengthPrefixBytes; ++i) {
    value |= static_cast<uint32_t>(static_cast<unsigned char>(p[i])) << (kBitsPerByte * i);
  }
  return value;
}

void append_le32(uint32_t value, std::string& out) {
  for (size_t i = 0; i < kLengthPrefixBytes; ++i) out.push_back(static_cast<char>((value >> (kBitsPerByte * i)) & 0xFFu));
}

// The element count of a shape, or nullopt when a dim is negative or the count overflows int64.
std::optional<uint64_t> element_count(const Shape& shape) {
  // int64 like Shape::numel, which every later use of the shape calls.
  const std::optional<int64_t> count = shape.checked_numel();
  if (!count) return std::nullopt;
  return static_cast<uint64_t>(*count);
}

std::string describe(const std::string& name, DType dtype, const Shape& shape) {
  return "input '" + name + "' (" + std::string(serving::wire_name(dtype)) + " " + shape.to_string() + ")";
}

Result<Tensor> decode_strings(const std::string& name, const Shape& shape, uint64_t count, const char* data, uint64_t size) {
  std::vector<std::string> values;
  uint64_t position = 0;
  while (position < size) {
    if (size - position < kLengthPrefixBytes) {
      return invalid_argument("input '" + name + "': binary BYTES data ends inside the 4-byte length of element " +
                              std::to_string(values.size()));
    }
    const uint32_t length = read_le32(data + position);
    position += kLengthPrefixBytes;
    if (length > size - position) {
      return invalid_argument("input '" + name + "': binary BYTES element " + std::to_string(values.size()) + " claims " +
                              std::to_string(length) + " bytes but only " + std::to_string(size - position) + " remain");
    }
    if (values.size() >= count) {
      return invalid_argument("input '" + name + "': binary BYTES data holds more than the " + std::to_string(count) +
                              " elements of its shape " + shape.to_string());
    }
    values.emplace_back(data + position, length);
    position += length;
  }
  if (values.size() != count) {
    return invalid_argument("input '" + name + "': shape " + shape.to_string() + " needs " + std::to_string(count) +
                            " BYTES elements but the binary data holds " + std::to_string(values.size()));
  }
  return Tensor::from_strings(shape, std::move(values));
}

}  // namespace

Result<Tensor> decode_binary_tensor(const std::string& name, DType dtype, const Shape& shape, const InferBody& body,
                                    size_t offset, uint64_t size) {
  const std::string_view bytes = body.bytes;
  if (offset > bytes.size() || size > bytes.size() - offset) {
    return invalid_argument("input '" + name + "': binary_data_size " + std::to_string(size) + " runs past the end of the body (" +
                            std::to_string(offset > bytes.size() ? 0 : bytes.size() - offset) + " bytes left): truncated request");
  }
  const std::optional<uint64_t> count = element_count(shape);
  if (!count) return invalid_argument(describe(name, dtype, shape) + ": the element count overflows");
  const char* data = bytes.data() + offset;
  if (dtype == DType::kBytes) return decode_strings(name, shape, *count, data, size);
  const size_t element_size = dtype_size(dtype);
  uint64_t expected = 0;
  if (element_size == 0 || __builtin_mul_overflow(*count, static_cast<uint64_t>(element_size), &expected)) {
    return invalid_argument(describe(name, dtype, shape) + ": the byte size overflows or the type has no binary form");
  }
  if (expected != size) {
    return invalid_argument(describe(name, dtype, shape) + " needs " + std::to_string(expected) + " bytes but binary_data_size is " +
                            std::to_string(size));
  }
  if (reinterpret_cast<uintptr_t>(data) % element_size == 0) {
    // The tensor shares ownership of the body, so its bytes stay valid until inference ends.
    return Tensor::wrap(dtype, shape, std::const_pointer_cast<void>(body.owner), const_cast<char*>(data));
  }
  Tensor tensor(dtype, shape);
  if (size > 0) std::memcpy(tensor.raw_data(), data, size);
  return tensor;
}

InferBody infer_body_of(std::string bytes) {
  auto owned = std::make_shared<const std::string>(std::move(bytes));
  InferBody body;
  body.bytes = *owned;
  body.json_length = owned->size();
  body.owner = std::move(owned);
  return body;
}

uint64_t append_binary_tensor(const Tensor& tensor, std::string& out) {
  const size_t before = out.size();
  if (tensor.dtype() == DType::kBytes) {
    for (const std::string& value : tensor.strings()) {
      append_le32(static_cast<uint32_t>(std::min<size_t>(value.size(), std::numeric_limits<uint32_t>::max())), out);
      out.append(value.data(), std::min<size_t>(value.size(), std::numeric_limits<uint32_t>::max()));
    }
  } else if (tensor.nbytes() > 0) {
    out.append(static_cast<const char*>(tensor.raw_data()), tensor.nbytes());
  }
  return out.size() - before;
}

}  // namespace kiln::cli::serve
