#include "tensor_compare.h"

#include <cmath>
#include <cstdint>
#include <sstream>
#include <type_traits>

#include "core/dtype_dispatch.h"

namespace kiln::conformance {
namespace {

// Formats "index [1,2,3]" for a flat element index of a tensor with `shape`.
std::string index_to_string(const Shape& shape, int64_t flat) {
  std::vector<int64_t> index(shape.rank());
  for (size_t d = shape.rank(); d-- > 0;) {
    const int64_t extent = shape[d] > 0 ? shape[d] : 1;
    index[d] = flat % extent;
    flat /= extent;
  }
  std::string text = "[";
  for (size_t d = 0; d < index.size(); ++d) text += (d ? "," : "") + std::to_string(index[d]);
  return text + "]";
}

bool floats_match(double expected, double actual, const Tolerance& tolerance) {
  if (std::isnan(expected) || std::isnan(actual)) return std::isnan(expected) && std::isnan(actual);
  if (expected == actual) return true;  // also covers equal infinities
  if (std::isinf(expected) || std::isinf(actual)) return false;
  return std::fabs(actual - expected) <= tolerance.absolute + tolerance.relative * std::fabs(expected);
}

template <class T>
std::string element_to_string(T value) {
  std::ostringstream out;
  out.precision(9);
  if constexpr (std::is_same_v<T, bool>) {
    out << (value ? "true" : "false");
  } else if constexpr (kIsNarrowFloat<T>) {
    out << static_cast<float>(value);
  } else if constexpr (std::is_same_v<T, int8_t> || std::is_same_v<T, uint8_t>) {
    out << static_cast<int>(value);
  } else {
    out << value;
  }
  return out.str();
}

struct Mismatches {
  int64_t count = 0;
  int64_t first = -1;
  std::string first_expected;
  std::string first_actual;

  void record(int64_t index, std::string expected, std::string actual) {
    if (count++ == 0) {
      first = index;
      first_expected = std::move(expected);
      first_actual = std::move(actual);
    }
  }
};

template <class T>
Mismatches compare_elements(const Tensor& expected, const Tensor& actual, const Tolerance& tolerance) {
  Mismatches mismatches;
  const T* want = expected.data<T>();
  const T* got = actual.data<T>();
  for (int64_t i = 0; i < expected.numel(); ++i) {
    bool same = false;
    if constexpr (kIsNarrowFloat<T> || std::is_floating_point_v<T>) {
      same = floats_match(convert_element<double>(want[i]), convert_element<double>(got[i]), tolerance);
    } else {
      same = want[i] == got[i];
    }
    if (!same) mismatches.record(i, element_to_string(want[i]), element_to_string(got[i]));
  }
  return mismatches;
}

Mismatches compare_strings(const Tensor& expected, const Tensor& actual) {
  Mismatches mismatches;
  for (int64_t i = 0; i < expected.numel(); ++i) {
    const std::string& want = expected.strings()[static_cast<size_t>(i)];
    const std::string& got = actual.strings()[static_cast<size_t>(i)];
    if (want != got) mismatches.record(i, "\"" + want + "\"", "\"" + got + "\"");
  }
  return mismatches;
}

}  // namespace

std::optional<std::string> compare_tensors(const Tensor& expected, const Tensor& actual,
                                           const Tolerance& tolerance) {
  if (!actual.defined()) return "no tensor was produced";
  if (expected.dtype() != actual.dtype())
    return "dtype " + std::string(dtype_name(actual.dtype())) + ", expected " + std::string(dtype_name(expected.dtype()));
  if (expected.shape() != actual.shape())
    return "shape " + actual.shape().to_string() + ", expected " + expected.shape().to_string();

  Mismatches mismatches;
  if (expected.dtype() == DType::kBytes) {
    if (expected.strings().size() != actual.strings().size())
      return "holds " + std::to_string(actual.strings().size()) + " strings, expected " +
             std::to_string(expected.strings().size());
    mismatches = compare_strings(expected, actual);
  } else {
    const bool numeric = visit_dtype(expected.dtype(), [&](auto tag) {
      mismatches = compare_elements<decltype(tag)>(expected, actual, tolerance);
    });
    if (!numeric) return "cannot compare dtype " + std::string(dtype_name(expected.dtype()));
  }
  if (mismatches.count == 0) return std::nullopt;
  return std::to_string(mismatches.count) + " of " + std::to_string(expected.numel()) +
         " elements differ; first at " + index_to_string(expected.shape(), mismatches.first) + ": got " +
         mismatches.first_actual + ", expected " + mismatches.first_expected;
}

}  // namespace kiln::conformance
