// Variadic ops over 1..N broadcast inputs: Max, Min (any numeric dtype; NaN propagates, as
// numpy.maximum in the ONNX reference), Sum and Mean (floating point, accumulated in double).
#include <cmath>

#include "backends/reference/kernels/elementwise_util.h"

namespace kiln::reference::elementwise {
namespace {

struct VariadicInputs {
  std::vector<const Tensor*> tensors;
  Shape out_shape;
};

Result<VariadicInputs> variadic_inputs(const KernelContext& ctx, DTypeSet allowed) {
  VariadicInputs in;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    KILN_ASSIGN_OR_RETURN(const Tensor* t, required_input(ctx, i));
    KILN_RETURN_IF_ERROR(check_dtype(ctx.op, i, t->dtype(), allowed));
    if (!in.tensors.empty()) KILN_RETURN_IF_ERROR(check_same_dtype(ctx.op, *in.tensors[0], 0, *t, i));
    in.tensors.push_back(t);
  }
  if (in.tensors.empty()) return invalid_argument(std::string(op_kind_name(ctx.op)) + ": needs at least one input");
  KILN_ASSIGN_OR_RETURN(in.out_shape, broadcast_all(ctx, 0, ctx.num_inputs()));
  return in;
}

// Folds every input into `acc` (already holding the broadcast of input 0): acc = f(acc, input).
template <class A, class T, class F>
void fold_inputs(const VariadicInputs& in, std::vector<A>& acc, F&& f) {
  const std::array<const Shape*, 1> first_shape{&in.tensors[0]->shape()};
  const T* first = in.tensors[0]->data<T>();
  walk_broadcast<1>(in.out_shape, first_shape, [&](int64_t i, const std::array<int64_t, 1>& off) {
    acc[static_cast<size_t>(i)] = static_cast<A>(convert_element<A>(first[off[0]]));
  });
  for (size_t k = 1; k < in.tensors.size(); ++k) {
    const T* p = in.tensors[k]->data<T>();
    const std::array<const Shape*, 1> shape{&in.tensors[k]->shape()};
    walk_broadcast<1>(in.out_shape, shape, [&](int64_t i, const std::array<int64_t, 1>& off) {
      A& a = acc[static_cast<size_t>(i)];
      a = f(a, convert_element<A>(p[off[0]]));
    });
  }
}

enum class Extreme { kMax, kMin };

template <Extreme kWhich>
Status extreme_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(VariadicInputs in, variadic_inputs(ctx, kNumeric));
  Tensor out(in.tensors[0]->dtype(), in.out_shape);
  const auto n = static_cast<size_t>(in.out_shape.numel());
  visit_dtype(out.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (kIsFloatLike<T>) {
      std::vector<double> acc(n);
      fold_inputs<double, T>(in, acc, [](double a, double b) {
        if (std::isnan(a) || std::isnan(b)) return std::nan("");
        return kWhich == Extreme::kMax ? std::max(a, b) : std::min(a, b);
      });
      for (size_t i = 0; i < n; ++i) out.data<T>()[i] = from_double<T>(acc[i]);
    } else if constexpr (kIsInt<T>) {
      std::vector<T> acc(n);
      fold_inputs<T, T>(in, acc, [](T a, T b) { return kWhich == Extreme::kMax ? std::max(a, b) : std::min(a, b); });
      std::copy(acc.begin(), acc.end(), out.data<T>());
    }
  });
  ctx.outputs[0] = std::move(out);
  return {};
}

template <bool kMean>
Status sum_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(VariadicInputs in, variadic_inputs(ctx, kFloats));
  Tensor out(in.tensors[0]->dtype(), in.out_shape);
  const auto n = static_cast<size_t>(in.out_shape.numel());
  const double count = kMean ? static_cast<double>(in.tensors.size()) : 1.0;
  visit_dtype(out.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (kIsFloatLike<T>) {
      std::vector<double> acc(n);
      fold_inputs<double, T>(in, acc, [](double a, double b) { return a + b; });
      for (size_t i = 0; i < n; ++i) out.data<T>()[i] = from_double<T>(acc[i] / count);
    }
  });
  ctx.outputs[0] = std::move(out);
  return {};
}

}  // namespace

void register_variadic_kernels(KernelTable& table) {
  table.add(OpKind::Max, extreme_kernel<Extreme::kMax>);
  table.add(OpKind::Min, extreme_kernel<Extreme::kMin>);
  table.add(OpKind::Sum, sum_kernel<false>);
  table.add(OpKind::Mean, sum_kernel<true>);
}

}  // namespace kiln::reference::elementwise
