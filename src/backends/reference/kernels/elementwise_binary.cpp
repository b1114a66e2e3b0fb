// Binary ops with numpy broadcasting: arithmetic (Add, Sub, Mul, Div, Mod, Pow), comparisons,
// logic, BitShift and the ternary Where.
#include <cmath>

#include "backends/reference/kernels/elementwise_util.h"

namespace kiln::reference::elementwise {
namespace {

struct BinaryInputs {
  const Tensor* a = nullptr;
  const Tensor* b = nullptr;
  Shape out_shape;
};

// The two inputs, checked against `allowed` (and for equal dtypes when `same_dtype`), and their
// broadcast shape.
Result<BinaryInputs> binary_inputs(const KernelContext& ctx, DTypeSet allowed, bool same_dtype = true) {
  BinaryInputs in;
  KILN_ASSIGN_OR_RETURN(in.a, required_input(ctx, 0));
  KILN_ASSIGN_OR_RETURN(in.b, required_input(ctx, 1));
  KILN_RETURN_IF_ERROR(check_dtype(ctx.op, 0, in.a->dtype(), allowed));
  if (same_dtype) KILN_RETURN_IF_ERROR(check_same_dtype(ctx.op, *in.a, 0, *in.b, 1));
  KILN_ASSIGN_OR_RETURN(in.out_shape, broadcast_all(ctx, 0, 2));
  return in;
}

// Same-typed arithmetic: float_fn on doubles for floating dtypes, int_fn on T for integers.
template <class FloatFn, class IntFn>
Status arithmetic(KernelContext& ctx, DTypeSet allowed, FloatFn&& float_fn, IntFn&& int_fn) {
  KILN_ASSIGN_OR_RETURN(BinaryInputs in, binary_inputs(ctx, allowed));
  Tensor out(in.a->dtype(), in.out_shape);
  visit_dtype(in.a->dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (kIsFloatLike<T>)
      broadcast_binary<T, T, T>(*in.a, *in.b, out,
                                [&](T x, T y) { return from_double<T>(float_fn(to_double(x), to_double(y))); });
    else if constexpr (kIsInt<T>)
      broadcast_binary<T, T, T>(*in.a, *in.b, out, [&](T x, T y) { return static_cast<T>(int_fn(x, y)); });
  });
  ctx.outputs[0] = std::move(out);
  return {};
}

Status division_by_zero(OpKind op) {
  return invalid_argument(std::string(op_kind_name(op)) + ": integer division by zero");
}

Status div_kernel(KernelContext& ctx) {
  bool by_zero = false;
  KILN_RETURN_IF_ERROR(arithmetic(ctx, kNumeric, [](double x, double y) { return x / y; }, [&](auto x, auto y) {
    using T = decltype(x);
    if (y == T{0}) {
      by_zero = true;
      return T{0};
    }
    if constexpr (std::is_signed_v<T>)
      if (y == T{-1}) return wrap_neg(x);  // min / -1 overflows
    return static_cast<T>(x / y);          // C++ truncates toward zero, as ONNX integer Div
  }));
  return by_zero ? division_by_zero(ctx.op) : Status{};
}

Status mod_kernel(KernelContext& ctx) {
  const bool fmod = ctx.attributes().get_int("fmod", 0) != 0;
  if (!fmod && ctx.input(0) && dtype_is_floating(ctx.input(0)->dtype()))
    return invalid_argument("Mod: floating-point inputs require attribute fmod=1");
  bool by_zero = false;
  KILN_RETURN_IF_ERROR(arithmetic(ctx, kNumeric, [](double x, double y) { return std::fmod(x, y); }, [&](auto x, auto y) {
    using T = decltype(x);
    if (y == T{0}) {
      by_zero = true;
      return T{0};
    }
    if constexpr (std::is_signed_v<T>) {
      if (y == T{-1}) return T{0};  // min % -1 overflows
      T r = static_cast<T>(x % y);  // sign of the dividend (C fmod semantics)
      if (!fmod && r != 0 && ((r < 0) != (y < 0))) r = static_cast<T>(r + y);  // sign of the divisor
      return r;
    } else {
      return static_cast<T>(x % y);
    }
  }));
  return by_zero ? division_by_zero(ctx.op) : Status{};
}

// base^exponent for integers; negative exponents truncate the fraction toward zero.
template <class T, class E>
T int_pow(T base, E exponent) {
  if constexpr (std::is_signed_v<E>) {
    if (exponent < 0) {
      if (base == T{1}) return T{1};
      if constexpr (std::is_signed_v<T>)
        if (base == T{-1}) return (exponent % 2 == 0) ? T{1} : T{-1};
      return T{0};
    }
  }
  T result{1};
  auto e = static_cast<std::make_unsigned_t<E>>(exponent);
  while (e != 0) {
    if (e & 1u) result = wrap_mul(result, base);
    base = wrap_mul(base, base);
    e >>= 1;
  }
  return result;
}

// Pow(X, Y): the output has X's dtype; Y may be any numeric dtype.
Status pow_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(BinaryInputs in, binary_inputs(ctx, kNumeric, /*same_dtype=*/false));
  KILN_RETURN_IF_ERROR(check_dtype(ctx.op, 1, in.b->dtype(), kNumeric));
  Tensor out(in.a->dtype(), in.out_shape);
  visit_dtype(in.a->dtype(), [&](auto base_tag) {
    using T = decltype(base_tag);
    visit_dtype(in.b->dtype(), [&](auto exp_tag) {
      using E = decltype(exp_tag);
      if constexpr (kIsInt<T> && kIsInt<E>)
        broadcast_binary<T, E, T>(*in.a, *in.b, out, [](T x, E y) { return int_pow(x, y); });
      else if constexpr ((kIsInt<T> || kIsFloatLike<T>) && (kIsInt<E> || kIsFloatLike<E>))
        broadcast_binary<T, E, T>(*in.a, *in.b, out,
                                  [](T x, E y) { return from_double<T>(std::pow(to_double(x), to_double(y))); });
    });
  });
  ctx.outputs[0] = std::move(out);
  return {};
}

enum class Comparison { kEqual, kGreater, kGreaterOrEqual, kLess, kLessOrEqual };

template <Comparison kCmp, class T>
bool compare(T x, T y) {
  if constexpr (kCmp == Comparison::kEqual) return x == y;
  else if constexpr (kCmp == Comparison::kGreater) return x > y;
  else if constexpr (kCmp == Comparison::kGreaterOrEqual) return x >= y;
  else if constexpr (kCmp == Comparison::kLess) return x < y;
  else return x <= y;
}

template <Comparison kCmp>
Status compare_kernel(KernelContext& ctx) {
  const DTypeSet allowed = kCmp == Comparison::kEqual ? (kNumeric | kBoolOnly) : kNumeric;
  KILN_ASSIGN_OR_RETURN(BinaryInputs in, binary_inputs(ctx, allowed));
  Tensor out(DType::kBool, in.out_shape);
  visit_dtype(in.a->dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (kIsFloatLike<T>)
      broadcast_binary<T, T, bool>(*in.a, *in.b, out,
                                   [](T x, T y) { return compare<kCmp>(to_double(x), to_double(y)); });
    else
      broadcast_binary<T, T, bool>(*in.a, *in.b, out, [](T x, T y) { return compare<kCmp>(x, y); });
  });
  ctx.outputs[0] = std::move(out);
  return {};
}

template <class F>
Status logic_kernel(KernelContext& ctx, F&& f) {
  KILN_ASSIGN_OR_RETURN(BinaryInputs in, binary_inputs(ctx, kBoolOnly));
  Tensor out(DType::kBool, in.out_shape);
  broadcast_binary<bool, bool, bool>(*in.a, *in.b, out, f);
  ctx.outputs[0] = std::move(out);
  return {};
}

Status bitshift_kernel(KernelContext& ctx) {
  const std::string direction = ctx.attributes().get_string("direction", "");
  if (direction != "LEFT" && direction != "RIGHT")
    return invalid_argument("BitShift: attribute 'direction' must be \"LEFT\" or \"RIGHT\", got \"" + direction + "\"");
  const bool left = direction == "LEFT";
  return arithmetic(ctx, kUnsignedInts, [](double x, double) { return x; }, [=](auto x, auto y) {
    using T = decltype(x);
    constexpr auto kBits = static_cast<T>(sizeof(T) * 8);
    if (y >= kBits) return T{0};  // shifting every bit out (a plain shift would be UB)
    // Shift in at least `unsigned` so a promoted uint8/uint16 never overflows a signed int.
    using Wide = std::conditional_t<(sizeof(T) < sizeof(unsigned)), unsigned, T>;
    const auto wide = static_cast<Wide>(x);
    return static_cast<T>(left ? wide << y : wide >> y);
  });
}

// Where(condition, X, Y): X where condition else Y, all three broadcast.
Status where_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* cond, required_input(ctx, 0));
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 1));
  KILN_ASSIGN_OR_RETURN(const Tensor* y, required_input(ctx, 2));
  KILN_RETURN_IF_ERROR(check_dtype(ctx.op, 0, cond->dtype(), kBoolOnly));
  KILN_RETURN_IF_ERROR(check_dtype(ctx.op, 1, x->dtype(), kAllTypes));
  KILN_RETURN_IF_ERROR(check_same_dtype(ctx.op, *x, 1, *y, 2));
  KILN_ASSIGN_OR_RETURN(Shape shape, broadcast_all(ctx, 0, 3));
  const bool* pc = cond->data<bool>();
  const std::array<const Shape*, 3> shapes{&cond->shape(), &x->shape(), &y->shape()};
  if (x->dtype() == DType::kBytes) {
    std::vector<std::string> values(static_cast<size_t>(shape.numel()));
    walk_broadcast<3>(shape, shapes, [&](int64_t i, const std::array<int64_t, 3>& off) {
      values[static_cast<size_t>(i)] = pc[off[0]] ? x->strings()[static_cast<size_t>(off[1])]
                                                  : y->strings()[static_cast<size_t>(off[2])];
    });
    ctx.outputs[0] = Tensor::from_strings(shape, std::move(values));
    return {};
  }
  Tensor out(x->dtype(), shape);
  visit_dtype(x->dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* px = x->data<T>();
    const T* py = y->data<T>();
    T* po = out.data<T>();
    walk_broadcast<3>(shape, shapes, [&](int64_t i, const std::array<int64_t, 3>& off) {
      po[i] = pc[off[0]] ? px[off[1]] : py[off[2]];
    });
  });
  ctx.outputs[0] = std::move(out);
  return {};
}

}  // namespace

void register_binary_kernels(KernelTable& table) {
  table.add(OpKind::Add, [](KernelContext& c) {
    return arithmetic(c, kNumeric, [](double x, double y) { return x + y; }, [](auto x, auto y) { return wrap_add(x, y); });
  });
  table.add(OpKind::Sub, [](KernelContext& c) {
    return arithmetic(c, kNumeric, [](double x, double y) { return x - y; }, [](auto x, auto y) { return wrap_sub(x, y); });
  });
  table.add(OpKind::Mul, [](KernelContext& c) {
    return arithmetic(c, kNumeric, [](double x, double y) { return x * y; }, [](auto x, auto y) { return wrap_mul(x, y); });
  });
  table.add(OpKind::Div, div_kernel);
  table.add(OpKind::Mod, mod_kernel);
  table.add(OpKind::Pow, pow_kernel);
  table.add(OpKind::Equal, compare_kernel<Comparison::kEqual>);
  table.add(OpKind::Greater, compare_kernel<Comparison::kGreater>);
  table.add(OpKind::GreaterOrEqual, compare_kernel<Comparison::kGreaterOrEqual>);
  table.add(OpKind::Less, compare_kernel<Comparison::kLess>);
  table.add(OpKind::LessOrEqual, compare_kernel<Comparison::kLessOrEqual>);
  table.add(OpKind::And, [](KernelContext& c) { return logic_kernel(c, [](bool x, bool y) { return x && y; }); });
  table.add(OpKind::Or, [](KernelContext& c) { return logic_kernel(c, [](bool x, bool y) { return x || y; }); });
  table.add(OpKind::Xor, [](KernelContext& c) { return logic_kernel(c, [](bool x, bool y) { return x != y; }); });
  table.add(OpKind::BitShift, bitshift_kernel);
  table.add(OpKind::Where, where_kernel);
}

}  // namespace kiln::reference::elementwise
