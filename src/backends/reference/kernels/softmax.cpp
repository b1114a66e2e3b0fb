// Softmax, LogSoftmax and Hardmax along one axis (opset-13 semantics, default axis -1). Softmax
// subtracts the row maximum before exponentiating so large inputs do not overflow.
#include <cmath>
#include <string>
#include <vector>

#include "backends/reference/kernel_util.h"
#include "backends/reference/kernels/linalg_kernels.h"
#include "core/broadcast.h"

namespace kiln::reference::linalg {
namespace {

constexpr int64_t kDefaultAxis = -1;

enum class Normalizer { kSoftmax, kLogSoftmax, kHardmax };

// Writes the result for one row (the values along the axis) into `row` in place.
void normalize_row(std::vector<double>& row, Normalizer kind) {
  size_t arg_max = 0;
  for (size_t i = 1; i < row.size(); ++i)
    if (row[i] > row[arg_max]) arg_max = i;
  if (kind == Normalizer::kHardmax) {
    for (size_t i = 0; i < row.size(); ++i) row[i] = i == arg_max ? 1.0 : 0.0;
    return;
  }
  const double max = row.empty() ? 0.0 : row[arg_max];
  double sum = 0.0;
  for (double v : row) sum += std::exp(v - max);
  if (kind == Normalizer::kSoftmax) {
    for (double& v : row) v = std::exp(v - max) / sum;
  } else {
    const double log_sum = std::log(sum);
    for (double& v : row) v = v - max - log_sum;
  }
}

template <Normalizer kKind>
Status softmax_like_kernel(KernelContext& ctx) {
  const char* op = kKind == Normalizer::kSoftmax ? "Softmax" : kKind == Normalizer::kLogSoftmax ? "LogSoftmax" : "Hardmax";
  const Tensor* x = ctx.input(0);
  if (!x) return invalid_argument(std::string(op) + ": input is required");
  if (!is_float_dtype(x->dtype())) return unsupported_dtype(op, x->dtype());
  const int64_t rank = static_cast<int64_t>(x->rank());
  auto axis = normalize_axis(ctx.attributes().get_int("axis", kDefaultAxis), rank);
  if (!axis.ok()) return invalid_argument(std::string(op) + ": attribute axis: " + axis.status().message());
  const std::vector<int64_t>& dims = x->shape().dims();
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < *axis; ++d) outer *= dims[static_cast<size_t>(d)];
  for (int64_t d = *axis + 1; d < rank; ++d) inner *= dims[static_cast<size_t>(d)];
  const int64_t length = rank == 0 ? 1 : dims[static_cast<size_t>(*axis)];
  Tensor out(x->dtype(), x->shape());
  visit_dtype(x->dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* in_data = x->data<T>();
    T* out_data = out.data<T>();
    std::vector<double> row(static_cast<size_t>(length));
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t i = 0; i < inner; ++i) {
        const int64_t base = o * length * inner + i;
        for (int64_t l = 0; l < length; ++l) row[static_cast<size_t>(l)] = convert_element<double>(in_data[base + l * inner]);
        normalize_row(row, kKind);
        for (int64_t l = 0; l < length; ++l) out_data[base + l * inner] = convert_element<T>(row[static_cast<size_t>(l)]);
      }
    }
  });
  ctx.outputs[0] = std::move(out);
  return {};
}

}  // namespace

void register_softmax_kernels(KernelTable& table) {
  table.add(OpKind::Softmax, softmax_like_kernel<Normalizer::kSoftmax>);
  table.add(OpKind::LogSoftmax, softmax_like_kernel<Normalizer::kLogSoftmax>);
  table.add(OpKind::Hardmax, softmax_like_kernel<Normalizer::kHardmax>);
}

}  // namespace kiln::reference::linalg
