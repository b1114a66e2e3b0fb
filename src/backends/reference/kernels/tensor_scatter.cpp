// Index-driven writes: ScatterElements and ScatterND (opset 16 reductions none / add / mul). The
// output starts as a copy of data; every index is range-checked before anything is written.
#include <type_traits>

#include "backends/reference/kernels/tensor_common.h"

namespace kiln::reference::tensor_ops {
namespace {

enum class Reduction { kNone, kAdd, kMul };

Result<Reduction> reduction_attribute(const KernelContext& ctx, const char* op) {
  const std::string name = ctx.attributes().get_string("reduction", "none");
  if (name == "none") return Reduction::kNone;
  if (name == "add") return Reduction::kAdd;
  if (name == "mul") return Reduction::kMul;
  return invalid_argument(std::string(op) + ": reduction '" + name + "' is not one of none, add, mul");
}

// a (op) b without signed overflow (integers wrap like the hardware) and with narrow floats
// computed in float.
template <class T>
T combine(T a, T b, Reduction reduction) {
  const bool add = reduction == Reduction::kAdd;
  if constexpr (std::is_same_v<T, bool>) {
    return add ? (a || b) : (a && b);
  } else if constexpr (kIsNarrowFloat<T>) {
    const float x = static_cast<float>(a), y = static_cast<float>(b);
    return T(add ? x + y : x * y);
  } else if constexpr (std::is_integral_v<T>) {
    using U = std::make_unsigned_t<std::conditional_t<(sizeof(T) < sizeof(int)), unsigned, T>>;
    const U x = static_cast<U>(a), y = static_cast<U>(b);
    return static_cast<T>(add ? static_cast<U>(x + y) : static_cast<U>(x * y));
  } else {
    return add ? a + b : a * b;
  }
}

// Writes updates[source .. source+count) into out[target ..], replacing or combining.
class UpdateWriter {
 public:
  UpdateWriter(const Tensor& updates, Tensor& out, Reduction reduction)
      : updates_(updates), out_(out), copier_(updates, out), reduction_(reduction) {}

  void write(int64_t target, int64_t source, int64_t count) {
    if (reduction_ == Reduction::kNone) {
      copier_.copy(target, source, count);
      return;
    }
    visit_dtype(out_.dtype(), [&](auto tag) {
      using T = decltype(tag);
      T* dst = out_.data<T>();
      const T* src = updates_.data<T>();
      for (int64_t i = 0; i < count; ++i) dst[target + i] = combine<T>(dst[target + i], src[source + i], reduction_);
    });
  }

 private:
  const Tensor& updates_;
  Tensor& out_;
  ElementCopier copier_;
  Reduction reduction_;
};

Status check_common(const Tensor& data, const Tensor& updates, Reduction reduction, const char* op) {
  if (updates.dtype() != data.dtype())
    return invalid_argument(std::string(op) + ": updates are " + std::string(dtype_name(updates.dtype())) +
                            " but data is " + std::string(dtype_name(data.dtype())));
  if (reduction != Reduction::kNone && data.dtype() == DType::kBytes)
    return invalid_argument(std::string(op) + ": reduction add/mul needs numeric data, got bytes");
  return {};
}

Status scatter_elements_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* data, required_input(ctx, 0, "ScatterElements"));
  KILN_ASSIGN_OR_RETURN(const Tensor* indices_input, required_input(ctx, 1, "ScatterElements"));
  KILN_ASSIGN_OR_RETURN(const Tensor* updates, required_input(ctx, 2, "ScatterElements"));
  KILN_ASSIGN_OR_RETURN(Reduction reduction, reduction_attribute(ctx, "ScatterElements"));
  KILN_RETURN_IF_ERROR(check_common(*data, *updates, reduction, "ScatterElements"));
  const auto rank = static_cast<int64_t>(data->rank());
  const int64_t axis_attr = ctx.attributes().get_int("axis", 0);
  if (rank == 0 || axis_attr < -rank || axis_attr >= rank)
    return invalid_argument("ScatterElements: axis " + std::to_string(axis_attr) + " is out of range for rank " +
                            std::to_string(rank));
  const auto axis = static_cast<size_t>(axis_attr < 0 ? axis_attr + rank : axis_attr);
  bool fits = indices_input->shape() == updates->shape() && indices_input->rank() == data->rank();
  for (size_t d = 0; fits && d < data->rank(); ++d) fits = d == axis || indices_input->shape()[d] <= data->shape()[d];
  if (!fits)
    return invalid_argument("ScatterElements: indices " + indices_input->shape().to_string() + " and updates " +
                            updates->shape().to_string() + " must have one shape, of data's rank (" +
                            data->shape().to_string() + ") and no larger dims outside axis " + std::to_string(axis));
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> indices, read_indices(*indices_input, "ScatterElements input 'indices'"));
  for (int64_t& i : indices) {
    KILN_ASSIGN_OR_RETURN(i, resolve_index(i, data->shape()[axis], "ScatterElements input 'indices' on axis " +
                                                                      std::to_string(axis)));
  }
  Tensor out = data->clone();
  UpdateWriter writer(*updates, out, reduction);
  const std::vector<int64_t> strides = contiguous_strides(data->shape());
  int64_t flat = 0;
  for_each_index(indices_input->shape(), [&](const std::vector<int64_t>& idx) {
    int64_t target = 0;
    for (size_t d = 0; d < idx.size(); ++d)
      target += (d == axis ? indices[static_cast<size_t>(flat)] : idx[d]) * strides[d];
    writer.write(target, flat, 1);
    ++flat;
  });
  ctx.outputs[0] = std::move(out);
  return {};
}

Status scatter_nd_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* data, required_input(ctx, 0, "ScatterND"));
  KILN_ASSIGN_OR_RETURN(const Tensor* indices_input, required_input(ctx, 1, "ScatterND"));
  KILN_ASSIGN_OR_RETURN(const Tensor* updates, required_input(ctx, 2, "ScatterND"));
  KILN_ASSIGN_OR_RETURN(Reduction reduction, reduction_attribute(ctx, "ScatterND"));
  KILN_RETURN_IF_ERROR(check_common(*data, *updates, reduction, "ScatterND"));
  const std::vector<int64_t>& data_dims = data->shape().dims();
  const std::vector<int64_t>& index_dims = indices_input->shape().dims();
  if (index_dims.empty() || index_dims.back() < 1 || index_dims.back() > static_cast<int64_t>(data_dims.size()))
    return invalid_argument("ScatterND: indices " + indices_input->shape().to_string() +
                            " must have a last dim in [1, data rank " + std::to_string(data_dims.size()) + "]");
  const auto k = static_cast<size_t>(index_dims.back());
  std::vector<int64_t> expected(index_dims.begin(), index_dims.end() - 1);
  expected.insert(expected.end(), data_dims.begin() + static_cast<std::ptrdiff_t>(k), data_dims.end());
  if (!(updates->shape() == Shape(expected)))
    return invalid_argument("ScatterND: updates have shape " + updates->shape().to_string() + ", expected " +
                            Shape(expected).to_string() + " (indices.shape[:-1] + data.shape[" + std::to_string(k) + ":])");
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> indices, read_indices(*indices_input, "ScatterND input 'indices'"));
  const std::vector<int64_t> strides = contiguous_strides(data->shape());
  const int64_t slice = k < data_dims.size() ? strides[k - 1] : 1;
  const int64_t tuples = k == 0 ? 0 : static_cast<int64_t>(indices.size() / k);
  std::vector<int64_t> targets(static_cast<size_t>(tuples));
  for (int64_t t = 0; t < tuples; ++t) {
    int64_t target = 0;
    for (size_t d = 0; d < k; ++d) {
      KILN_ASSIGN_OR_RETURN(int64_t i, resolve_index(indices[static_cast<size_t>(t) * k + d], data_dims[d],
                                                     "ScatterND input 'indices' for data dim " + std::to_string(d)));
      target += i * strides[d];
    }
    targets[static_cast<size_t>(t)] = target;
  }
  Tensor out = data->clone();
  UpdateWriter writer(*updates, out, reduction);
  for (int64_t t = 0; t < tuples; ++t) writer.write(targets[static_cast<size_t>(t)], t * slice, slice);
  ctx.outputs[0] = std::move(out);
  return {};
}

}  // namespace

void register_tensor_scatter_kernels(KernelTable& table) {
  table.add(OpKind::ScatterElements, scatter_elements_kernel);
  table.add(OpKind::ScatterND, scatter_nd_kernel);
}

}  // namespace kiln::reference::tensor_ops
