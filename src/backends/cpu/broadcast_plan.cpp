#include "backends/cpu/broadcast_plan.h"

#include "core/broadcast.h"

namespace kiln::backends::cpu {

int64_t BroadcastPlan::rows() const {
  int64_t r = 1;
  for (size_t i = 0; i + 1 < dims.size(); ++i) r *= dims[i];
  return r;
}

void BroadcastPlan::row_offsets(int64_t row, int64_t& a_offset, int64_t& b_offset) const {
  a_offset = 0;
  b_offset = 0;
  for (size_t i = dims.size() - 1; i-- > 0;) {
    const int64_t index = row % dims[i];
    row /= dims[i];
    a_offset += index * a_strides[i];
    b_offset += index * b_strides[i];
  }
}

BroadcastPlan plan_broadcast(const Shape& a_shape, const Shape& b_shape, const Shape& out_shape) {
  const std::vector<int64_t> a = broadcast_strides(a_shape, out_shape);
  const std::vector<int64_t> b = broadcast_strides(b_shape, out_shape);
  BroadcastPlan plan;
  for (size_t i = 0; i < out_shape.rank(); ++i) {
    const int64_t d = out_shape[i];
    if (d == 1) continue;  // a size-1 dim moves nothing
    // Merge into the previous dim when both operands continue their previous dim's stride
    // pattern: contiguous continues contiguous, broadcast continues broadcast.
    if (!plan.dims.empty()) {
      const int64_t pd = plan.dims.back();
      const bool a_merges = plan.a_strides.back() == a[i] * d;
      const bool b_merges = plan.b_strides.back() == b[i] * d;
      if (a_merges && b_merges) {
        plan.dims.back() = pd * d;
        plan.a_strides.back() = a[i];
        plan.b_strides.back() = b[i];
        continue;
      }
    }
    plan.dims.push_back(d);
    plan.a_strides.push_back(a[i]);
    plan.b_strides.push_back(b[i]);
  }
  if (plan.dims.empty()) {
    plan.dims = {1};
    plan.a_strides = {0};
    plan.b_strides = {0};
  }
  return plan;
}

}  // namespace kiln::backends::cpu
