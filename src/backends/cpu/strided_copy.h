// Fills a contiguous output from one input read through StridedRows<1>: the body of Expand and
// Slice. Elements move as whole words of their size, so any dtype of 1, 2, 4 or 8 bytes works.
#pragma once

#include <cstddef>
#include <string>
#include <utility>

#include "backends/backend.h"
#include "backends/cpu/strided_rows.h"

namespace kiln::backends::cpu {

bool strided_copy_supports(size_t element_bytes);

void strided_copy(const StridedRows<1>& rows, size_t element_bytes, const void* in, void* out, int threads);

// The kernel of every op that is one strided copy planned at prepare (Expand, Slice).
class StridedCopyKernel final : public Kernel {
 public:
  StridedCopyKernel(std::string description, StridedRows<1> rows, size_t element_bytes, int threads)
      : description_(std::move(description)), rows_(std::move(rows)), element_bytes_(element_bytes), threads_(threads) {}
  std::string describe() const override { return description_; }
  Status execute(const ExecuteArgs& args) const override {
    if (rows_.rows() * rows_.inner() == 0) return Status::ok_status();
    strided_copy(rows_, element_bytes_, args.inputs[0], args.outputs[0], threads_);
    return Status::ok_status();
  }

 private:
  std::string description_;
  StridedRows<1> rows_;
  size_t element_bytes_;
  int threads_;
};

}  // namespace kiln::backends::cpu
