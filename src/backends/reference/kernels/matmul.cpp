// MatMul and MatMulInteger: numpy.matmul semantics (1-D operands promoted, batch dims
// broadcast). The inner loop runs i-k-j over a row accumulator so that B is read row by row;
// this keeps the reference backend fast enough to run small transformers.
#include <string>
#include <vector>

#include "backends/reference/kernel_util.h"
#include "backends/reference/kernels/linalg_kernels.h"
#include "core/broadcast.h"

namespace kiln::reference::linalg {
namespace {

enum MatMulIntegerInput : size_t { kA = 0, kB = 1, kAZeroPoint = 2, kBZeroPoint = 3 };

// The shapes of one (possibly batched) matrix product.
struct MatMulGeometry {
  int64_t m = 0, k = 0, n = 0;
  Shape a_batch, b_batch, batch;  // leading dims of A, of B, and their broadcast
  Shape output;
};

Result<MatMulGeometry> matmul_geometry(const Tensor& a, const Tensor& b, const char* op) {
  if (a.rank() == 0 || b.rank() == 0)
    return invalid_argument(std::string(op) + ": operands must have rank >= 1, got shapes " + a.shape().to_string() +
                            " and " + b.shape().to_string());
  MatMulGeometry g;
  const std::vector<int64_t>& ad = a.shape().dims();
  const std::vector<int64_t>& bd = b.shape().dims();
  g.m = a.rank() == 1 ? 1 : ad[ad.size() - 2];
  g.k = ad.back();
  const int64_t k_b = b.rank() == 1 ? bd[0] : bd[bd.size() - 2];
  g.n = b.rank() == 1 ? 1 : bd.back();
  if (g.k != k_b)
    return invalid_argument(std::string(op) + ": inner dimensions do not match: A " + a.shape().to_string() +
                            " has K=" + std::to_string(g.k) + ", B " + b.shape().to_string() + " has K=" +
                            std::to_string(k_b));
  g.a_batch = Shape(std::vector<int64_t>(ad.begin(), ad.end() - std::min<size_t>(ad.size(), 2)));
  g.b_batch = Shape(std::vector<int64_t>(bd.begin(), bd.end() - std::min<size_t>(bd.size(), 2)));
  auto batch = broadcast_shapes(g.a_batch, g.b_batch);
  if (!batch.ok()) return invalid_argument(std::string(op) + ": batch dims: " + batch.status().message());
  g.batch = *batch;
  g.output = g.batch;
  if (a.rank() > 1) g.output.dims().push_back(g.m);
  if (b.rank() > 1) g.output.dims().push_back(g.n);
  return g;
}

// Calls f(a_matrix, b_matrix, out_matrix) with the matrix indices of every output batch.
template <class F>
void for_each_batch(const MatMulGeometry& g, F&& f) {
  const std::vector<int64_t> a_strides = broadcast_strides(g.a_batch, g.batch);
  const std::vector<int64_t> b_strides = broadcast_strides(g.b_batch, g.batch);
  int64_t out_matrix = 0;
  for_each_index(g.batch, [&](const std::vector<int64_t>& index) {
    f(offset_of(index, a_strides), offset_of(index, b_strides), out_matrix++);
  });
}

// Rows of B are consumed kUnroll at a time so each pass over the accumulator row does several
// multiply-adds per load and store.
constexpr int64_t kUnroll = 4;

template <class T>
void multiply_matrices(const T* a, const T* b, T* out, const MatMulGeometry& g, std::vector<AccumulatorOf<T>>& row) {
  using Acc = AccumulatorOf<T>;
  Acc* __restrict acc = row.data();
  const int64_t n = g.n;
  for (int64_t i = 0; i < g.m; ++i) {
    std::fill(row.begin(), row.end(), Acc(0));
    const T* a_row = a + i * g.k;
    int64_t kk = 0;
    for (; kk + kUnroll <= g.k; kk += kUnroll) {
      const Acc a0 = to_accumulator(a_row[kk]), a1 = to_accumulator(a_row[kk + 1]);
      const Acc a2 = to_accumulator(a_row[kk + 2]), a3 = to_accumulator(a_row[kk + 3]);
      const T* __restrict b0 = b + kk * n;
      const T* __restrict b1 = b0 + n;
      const T* __restrict b2 = b1 + n;
      const T* __restrict b3 = b2 + n;
      for (int64_t j = 0; j < n; ++j)
        acc[j] += a0 * to_accumulator(b0[j]) + a1 * to_accumulator(b1[j]) + a2 * to_accumulator(b2[j]) +
                  a3 * to_accumulator(b3[j]);
    }
    for (; kk < g.k; ++kk) {
      const Acc av = to_accumulator(a_row[kk]);
      const T* __restrict b_row = b + kk * n;
      for (int64_t j = 0; j < n; ++j) acc[j] += av * to_accumulator(b_row[j]);
    }
    T* out_row = out + i * n;
    for (int64_t j = 0; j < n; ++j) out_row[j] = from_accumulator<T>(acc[j]);
  }
}

Status matmul_kernel(KernelContext& ctx) {
  const Tensor* a = ctx.input(0);
  const Tensor* b = ctx.input(1);
  if (!a || !b) return invalid_argument("MatMul: inputs A and B are required");
  if (a->dtype() != b->dtype())
    return invalid_argument("MatMul: A is " + std::string(dtype_name(a->dtype())) + " but B is " +
                            std::string(dtype_name(b->dtype())));
  if (!is_matmul_dtype(a->dtype())) return unsupported_dtype("MatMul", a->dtype());
  KILN_ASSIGN_OR_RETURN(MatMulGeometry g, matmul_geometry(*a, *b, "MatMul"));
  Tensor out(a->dtype(), g.output);
  visit_dtype(a->dtype(), [&](auto tag) {
    using T = decltype(tag);
    std::vector<AccumulatorOf<T>> row(static_cast<size_t>(g.n));
    const T* a_data = a->data<T>();
    const T* b_data = b->data<T>();
    T* out_data = out.data<T>();
    for_each_batch(g, [&](int64_t am, int64_t bm, int64_t om) {
      multiply_matrices(a_data + am * g.m * g.k, b_data + bm * g.k * g.n, out_data + om * g.m * g.n, g, row);
    });
  });
  ctx.outputs[0] = std::move(out);
  return {};
}

bool is_8bit(DType d) { return d == DType::kInt8 || d == DType::kUInt8; }

std::vector<int64_t> int8_values(const Tensor& t) {
  std::vector<int64_t> out(static_cast<size_t>(t.numel()));
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = t.dtype() == DType::kInt8 ? t.data<int8_t>()[i] : t.data<uint8_t>()[i];
  return out;
}

// The zero point of every row of A (or column of B), expanded to `target` (A's batch dims +
// [M, 1], or B's + [1, N]). A 1-D zero point holds one value per row (or column).
Result<std::vector<int64_t>> expand_zero_point(const Tensor* zp, const Tensor& operand, const Shape& target,
                                               bool per_row, const char* name) {
  std::vector<int64_t> out(static_cast<size_t>(target.numel()), 0);
  if (!zp || zp->numel() == 0) return out;
  if (zp->dtype() != operand.dtype())
    return invalid_argument(std::string("MatMulInteger: ") + name + " must be " +
                            std::string(dtype_name(operand.dtype())) + ", got " + std::string(dtype_name(zp->dtype())));
  Shape zp_shape = zp->shape();
  if (zp_shape.rank() == 1 && per_row) zp_shape = Shape{zp_shape[0], 1};
  auto fits = broadcast_shapes(zp_shape, target);
  if (zp_shape.rank() > target.rank() || !fits.ok() || !(*fits == target))
    return invalid_argument(std::string("MatMulInteger: ") + name + " of shape " + zp->shape().to_string() +
                            " does not fit operand " + operand.shape().to_string());
  const std::vector<int64_t> values = int8_values(*zp);
  const std::vector<int64_t> strides = broadcast_strides(zp_shape, target);
  size_t i = 0;
  for_each_index(target, [&](const std::vector<int64_t>& index) { out[i++] = values[static_cast<size_t>(offset_of(index, strides))]; });
  return out;
}

Status matmul_integer_kernel(KernelContext& ctx) {
  const Tensor* a = ctx.input(kA);
  const Tensor* b = ctx.input(kB);
  if (!a || !b) return invalid_argument("MatMulInteger: inputs A and B are required");
  if (!is_8bit(a->dtype()) || !is_8bit(b->dtype()))
    return invalid_argument("MatMulInteger: A and B must be int8 or uint8, got " + std::string(dtype_name(a->dtype())) +
                            " and " + std::string(dtype_name(b->dtype())));
  KILN_ASSIGN_OR_RETURN(MatMulGeometry g, matmul_geometry(*a, *b, "MatMulInteger"));
  Shape a_rows = g.a_batch;
  a_rows.dims().insert(a_rows.dims().end(), {g.m, 1});
  Shape b_cols = g.b_batch;
  b_cols.dims().insert(b_cols.dims().end(), {1, g.n});
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> a_zp, expand_zero_point(ctx.input(kAZeroPoint), *a, a_rows, true, "a_zero_point"));
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> b_zp, expand_zero_point(ctx.input(kBZeroPoint), *b, b_cols, false, "b_zero_point"));
  const std::vector<int64_t> a_values = int8_values(*a);
  const std::vector<int64_t> b_values = int8_values(*b);
  Tensor out(DType::kInt32, g.output);
  int32_t* out_data = out.data<int32_t>();
  std::vector<int64_t> row(static_cast<size_t>(g.n));
  for_each_batch(g, [&](int64_t am, int64_t bm, int64_t om) {
    for (int64_t i = 0; i < g.m; ++i) {
      std::fill(row.begin(), row.end(), 0);
      const int64_t a_shift = a_zp[static_cast<size_t>(am * g.m + i)];
      for (int64_t kk = 0; kk < g.k; ++kk) {
        const int64_t av = a_values[static_cast<size_t>((am * g.m + i) * g.k + kk)] - a_shift;
        const size_t b_row = static_cast<size_t>((bm * g.k + kk) * g.n);
        for (int64_t j = 0; j < g.n; ++j)
          row[static_cast<size_t>(j)] += av * (b_values[b_row + static_cast<size_t>(j)] - b_zp[static_cast<size_t>(bm * g.n + j)]);
      }
      for (int64_t j = 0; j < g.n; ++j) out_data[(om * g.m + i) * g.n + j] = static_cast<int32_t>(row[static_cast<size_t>(j)]);
    }
  });
  ctx.outputs[0] = std::move(out);
  return {};
}

}  // namespace

void register_matmul_kernels(KernelTable& table) {
  table.add(OpKind::MatMul, matmul_kernel);
  table.add(OpKind::MatMulInteger, matmul_integer_kernel);
}

}  // namespace kiln::reference::linalg
