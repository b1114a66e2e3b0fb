#include "serving/scheduler/batch_tensors.h"

#include <cstring>
#include <memory>

#include "kiln/transfer_tensor.h"

namespace kiln::serving {

bool batch_compatible(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.rank() != b.rank() || a.rank() == 0) return false;
  for (size_t i = 1; i < a.rank(); ++i) {
    if (a.shape()[i] != b.shape()[i]) return false;
  }
  return true;
}

Result<Tensor> concat_batch(const std::vector<const Tensor*>& parts, Tensor* reuse) {
  if (parts.empty()) return internal_error("concat_batch: no tensors to join");
  const Tensor& first = *parts.front();
  int64_t rows = 0;
  for (const Tensor* part : parts) {
    if (!batch_compatible(first, *part)) {
      return internal_error("concat_batch: shapes " + first.shape().to_string() + " and " + part->shape().to_string() +
                            " cannot be batched");
    }
    rows += part->shape()[0];
  }
  Shape shape = first.shape();
  shape[0] = rows;
  if (first.dtype() == DType::kBytes) {
    std::vector<std::string> values;
    for (const Tensor* part : parts) values.insert(values.end(), part->strings().begin(), part->strings().end());
    return Tensor::from_strings(shape, std::move(values));
  }
  // The buffer is kept at the largest batch seen: a smaller one is a view of its first rows, so
  // batches of varying size do not allocate (page-locked allocations cost milliseconds and
  // freeing one waits for the whole GPU).
  const bool reusable = reuse != nullptr && reuse->defined() && batch_compatible(*reuse, first) && reuse->shape()[0] >= rows;
  if (reuse != nullptr && !reusable) *reuse = allocate_transfer_tensor(first.dtype(), shape);
  Tensor joined = reuse == nullptr ? Tensor(first.dtype(), shape)  // one-off: pageable is cheaper
                  : reuse->shape() == shape ? *reuse
                                            : Tensor::wrap(first.dtype(), shape, std::make_shared<Tensor>(*reuse), reuse->raw_data());
  auto* out = static_cast<unsigned char*>(joined.raw_data());
  for (const Tensor* part : parts) {
    if (part->nbytes() > 0) std::memcpy(out, part->raw_data(), part->nbytes());
    out += part->nbytes();
  }
  return joined;
}

Result<Tensor> slice_batch(const Tensor& tensor, int64_t begin, int64_t count) {
  if (tensor.rank() == 0 || begin < 0 || count < 0 || begin + count > tensor.shape()[0]) {
    return internal_error("slice_batch: rows [" + std::to_string(begin) + ", " + std::to_string(begin + count) +
                          ") are outside a tensor of shape " + tensor.shape().to_string());
  }
  Shape shape = tensor.shape();
  shape[0] = count;
  const int64_t row_elements = tensor.shape()[0] == 0 ? 0 : tensor.numel() / tensor.shape()[0];
  if (tensor.dtype() == DType::kBytes) {
    const auto& all = tensor.strings();
    std::vector<std::string> values(all.begin() + begin * row_elements, all.begin() + (begin + count) * row_elements);
    return Tensor::from_strings(shape, std::move(values));
  }
  Tensor slice(tensor.dtype(), shape);
  const size_t row_bytes = static_cast<size_t>(row_elements) * dtype_size(tensor.dtype());
  if (slice.nbytes() > 0) {
    std::memcpy(slice.raw_data(), static_cast<const unsigned char*>(tensor.raw_data()) + static_cast<size_t>(begin) * row_bytes,
                slice.nbytes());
  }
  return slice;
}

}  // namespace kiln::serving
