#include "backends/cpu/strided_copy.h"

#include <cstdint>

#include "backends/cpu/parallel.h"

namespace kiln::backends::cpu {
namespace {

constexpr int64_t kGrainElements = 1 << 14;

// Contiguous and broadcast rows are separate loops so each vectorizes without a gather.
template <class Word>
void copy_rows(const StridedRows<1>& rows, const Word* in, Word* out, int threads) {
  const int64_t inner = rows.inner();
  const int64_t step = rows.inner_stride(0);
  const int64_t grain_rows = std::max<int64_t>(1, kGrainElements / std::max<int64_t>(1, inner));
  parallel_for(rows.rows(), grain_rows, threads, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const Word* from = in + rows.row_offsets(row)[0];
      Word* to = out + row * inner;
      if (step == 1) {
        for (int64_t i = 0; i < inner; ++i) to[i] = from[i];
      } else if (step == 0) {
        const Word v = from[0];
        for (int64_t i = 0; i < inner; ++i) to[i] = v;
      } else {
        for (int64_t i = 0; i < inner; ++i) to[i] = from[i * step];
      }
    }
  });
}

}  // namespace

bool strided_copy_supports(size_t element_bytes) {
  return element_bytes == 1 || element_bytes == 2 || element_bytes == 4 || element_bytes == 8;
}

void strided_copy(const StridedRows<1>& rows, size_t element_bytes, const void* in, void* out, int threads) {
  switch (element_bytes) {
    case 1: copy_rows(rows, static_cast<const uint8_t*>(in), static_cast<uint8_t*>(out), threads); break;
    case 2: copy_rows(rows, static_cast<const uint16_t*>(in), static_cast<uint16_t*>(out), threads); break;
    case 4: copy_rows(rows, static_cast<const uint32_t*>(in), static_cast<uint32_t*>(out), threads); break;
    default: copy_rows(rows, static_cast<const uint64_t*>(in), static_cast<uint64_t*>(out), threads); break;
  }
}

}  // namespace kiln::backends::cpu
