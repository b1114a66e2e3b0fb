// Cast and CastLike between every pair of kiln dtypes, strings included (ONNX opset 17 Cast):
// floats into integers truncate toward zero and saturate (out of range is unspecified by ONNX;
// saturating avoids undefined behaviour), NaN becomes 0 in integers and true in bool, strings
// parse plain and scientific notation ("3.14", "1e-5", "INF", "NaN") and numbers print in
// their shortest round-trip form, bools as "True"/"False" (numpy's str()).
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <string_view>

#include "backends/reference/kernels/elementwise_util.h"
#include "core/onnx_dtype.h"

namespace kiln::reference::elementwise {
namespace {

template <class To, class From>
To cast_element(From v) {
  if constexpr (std::is_same_v<To, From>) {
    return v;
  } else if constexpr (std::is_same_v<To, bool>) {
    if constexpr (kIsFloatLike<From>) return to_double(v) != 0.0;  // NaN != 0 is true
    else return v != From{0};
  } else if constexpr (kIsFloatLike<From> && kIsInt<To>) {
    return from_double<To>(to_double(v));
  } else {
    return convert_element<To>(v);
  }
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// Parses a whole string as a number of type N (int64, uint64 or double).
template <class N>
bool parse_whole(std::string_view s, N& value) {
  if (s.size() > 1 && s.front() == '+' && s[1] != '-') s.remove_prefix(1);
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, value);
  return ec == std::errc() && ptr == end;
}

template <class T>
Result<T> parse_string(const std::string& text) {
  std::string_view s = trim(text);
  if constexpr (std::is_same_v<T, bool>) {
    if (iequals(s, "true")) return true;
    if (iequals(s, "false")) return false;
  }
  if constexpr (kIsInt<T>) {
    // Integers parse exactly when written as integers (doubles lose int64 precision).
    if constexpr (std::is_signed_v<T>) {
      int64_t i = 0;
      if (parse_whole(s, i)) {
        if (i < std::numeric_limits<T>::min()) return std::numeric_limits<T>::min();
        if (i > std::numeric_limits<T>::max()) return std::numeric_limits<T>::max();
        return static_cast<T>(i);
      }
    } else {
      uint64_t u = 0;
      if (parse_whole(s, u)) return u <= std::numeric_limits<T>::max() ? static_cast<T>(u) : std::numeric_limits<T>::max();
    }
  }
  double d = 0.0;
  if (!parse_whole(s, d)) return invalid_argument("Cast: cannot parse string \"" + text + "\" as a number");
  if constexpr (std::is_same_v<T, bool>) return d != 0.0;
  else return from_double<T>(d);
}

template <class T>
std::string format_element(T v) {
  if constexpr (std::is_same_v<T, bool>) {
    return v ? "True" : "False";
  } else if constexpr (kIsInt<T>) {
    return std::to_string(v);
  } else {
    // Shortest text that reads back as the same value in the source precision.
    constexpr size_t kMaxChars = 64;
    char buffer[kMaxChars];
    std::to_chars_result r;
    if constexpr (std::is_same_v<T, double>) r = std::to_chars(buffer, buffer + kMaxChars, v);
    else r = std::to_chars(buffer, buffer + kMaxChars, static_cast<float>(v));
    return std::string(buffer, r.ptr);
  }
}

Result<Tensor> cast_tensor(const Tensor& in, DType to) {
  const Shape& shape = in.shape();
  const auto n = static_cast<size_t>(in.numel());
  if (in.dtype() == DType::kBytes && to == DType::kBytes) return in.clone();
  if (to == DType::kBytes) {
    std::vector<std::string> values(n);
    visit_dtype(in.dtype(), [&](auto tag) {
      using F = decltype(tag);
      for (size_t i = 0; i < n; ++i) values[i] = format_element(in.data<F>()[i]);
    });
    return Tensor::from_strings(shape, std::move(values));
  }
  Tensor out(to, shape);
  if (in.dtype() == DType::kBytes) {
    Status status;
    visit_dtype(to, [&](auto tag) {
      using T = decltype(tag);
      for (size_t i = 0; i < n && status.ok(); ++i) {
        Result<T> parsed = parse_string<T>(in.strings()[i]);
        if (parsed.ok()) out.data<T>()[i] = parsed.value();
        else status = parsed.status();
      }
    });
    KILN_RETURN_IF_ERROR(status);
    return out;
  }
  visit_dtype(in.dtype(), [&](auto from_tag) {
    using F = decltype(from_tag);
    visit_dtype(to, [&](auto to_tag) {
      using T = decltype(to_tag);
      map_unary<F, T>(in, out, [](F v) { return cast_element<T>(v); });
    });
  });
  return out;
}

Status check_castable(OpKind op, size_t input, DType dtype) {
  return check_dtype(op, input, dtype, kAllTypes);
}

Status cast_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0));
  KILN_RETURN_IF_ERROR(check_castable(ctx.op, 0, x->dtype()));
  KILN_ASSIGN_OR_RETURN(int64_t to, ctx.attributes().require_int("to"));
  std::optional<DType> dtype = to == static_cast<int32_t>(to) ? dtype_from_onnx(static_cast<int32_t>(to)) : std::nullopt;
  if (!dtype) return unimplemented("Cast: attribute 'to' = " + std::to_string(to) + " is not a data type kiln supports");
  KILN_ASSIGN_OR_RETURN(ctx.outputs[0], cast_tensor(*x, *dtype));
  return {};
}

Status cast_like_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0));
  KILN_ASSIGN_OR_RETURN(const Tensor* like, required_input(ctx, 1));
  KILN_RETURN_IF_ERROR(check_castable(ctx.op, 0, x->dtype()));
  KILN_RETURN_IF_ERROR(check_castable(ctx.op, 1, like->dtype()));
  KILN_ASSIGN_OR_RETURN(ctx.outputs[0], cast_tensor(*x, like->dtype()));
  return {};
}

}  // namespace

void register_cast_kernels(KernelTable& table) {
  table.add(OpKind::Cast, cast_kernel);
  table.add(OpKind::CastLike, cast_like_kernel);
}

}  // namespace kiln::reference::elementwise
