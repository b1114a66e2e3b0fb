// Private helpers of the reference "tensor" kernels (shape and data movement). These ops move
// elements without arithmetic, so they work for every dtype, BYTES included, through one
// element-copy helper instead of a per-dtype dispatch in every kernel.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "backends/reference/kernel.h"
#include "backends/reference/kernel_util.h"

namespace kiln::reference::tensor_ops {

// The most elements one reference-kernel output may hold. Shapes taken from data (Expand,
// ConstantOfShape, Range, Tile) can ask for absurd sizes; those fail with an error instead of an
// allocation attempt.
inline constexpr int64_t kMaxOutputElements = int64_t{1} << 31;

// Element count of `shape`, or an error naming `what` when a dim is negative, the product
// overflows, or it exceeds kMaxOutputElements.
Result<int64_t> checked_numel(const Shape& shape, const std::string& what);
// A fresh zero-initialised tensor ("" for BYTES) after checked_numel.
Result<Tensor> allocate_output(DType dtype, const Shape& shape, const std::string& what);

// Copies elements from `src` to `dst` (same dtype) by flat index: raw bytes for fixed-size
// dtypes, std::string copies for BYTES.
class ElementCopier {
 public:
  ElementCopier(const Tensor& src, Tensor& dst);
  void copy(int64_t dst_index, int64_t src_index, int64_t count = 1) const;

 private:
  const unsigned char* src_bytes_ = nullptr;
  unsigned char* dst_bytes_ = nullptr;
  size_t element_size_ = 0;
  const std::vector<std::string>* src_strings_ = nullptr;
  std::vector<std::string>* dst_strings_ = nullptr;
};

// Fills a fresh tensor of `out_shape` (src's dtype): element at multi-index i comes from src's
// flat index source_of(i).
template <class SourceOf>
Result<Tensor> gather_elements_by(const Tensor& src, const Shape& out_shape, const std::string& what,
                                  SourceOf&& source_of) {
  KILN_ASSIGN_OR_RETURN(Tensor out, allocate_output(src.dtype(), out_shape, what));
  ElementCopier copier(src, out);
  int64_t dst = 0;
  for_each_index(out_shape, [&](const std::vector<int64_t>& index) { copier.copy(dst++, source_of(index)); });
  return out;
}

// The input at `i`, or an error naming the op when it is absent.
Result<const Tensor*> required_input(const KernelContext& ctx, size_t i, const char* op);

// Contents of an int32/int64 index tensor of any rank, flattened.
Result<std::vector<int64_t>> read_indices(const Tensor& t, const std::string& what);
// `index` resolved against [-bound, bound): negative counts from the end. Out of range is
// INVALID_ARGUMENT naming `what`, the index and the bound.
Result<int64_t> resolve_index(int64_t index, int64_t bound, const std::string& what);
// A scalar (or one-element) numeric tensor as int64 / double.
Result<int64_t> read_scalar_int(const Tensor& t, const std::string& what);

std::string shape_list_string(const std::vector<int64_t>& values);  // "[1,2,3]"

// One registration function per group; register_tensor_kernels calls them all.
void register_tensor_shape_kernels(KernelTable& table);    // Reshape .. Squeeze, Shape, Size
void register_tensor_layout_kernels(KernelTable& table);   // Transpose, Concat, Split, Slice, Expand, Tile
void register_tensor_gather_kernels(KernelTable& table);   // Gather, GatherElements, GatherND, Compress
void register_tensor_scatter_kernels(KernelTable& table);  // ScatterElements, ScatterND
void register_tensor_create_kernels(KernelTable& table);   // Constant .. EyeLike, OneHot, NonZero, Trilu

}  // namespace kiln::reference::tensor_ops
