// Compares a computed tensor with the recorded expected output of an ONNX node test, the way
// ONNX's own backend test runner does: dtypes and shapes must match; floating-point elements
// must satisfy |actual - expected| <= atol + rtol * |expected| (NaN equals NaN, infinities must
// be equal); integers, bools and strings must be equal.
#pragma once

#include <optional>
#include <string>

#include "kiln/tensor.h"

namespace kiln::conformance {

struct Tolerance {
  // ONNX's defaults for node tests (onnx/backend/test/runner).
  static constexpr double kDefaultRelative = 1e-3;
  static constexpr double kDefaultAbsolute = 1e-7;

  double relative = kDefaultRelative;
  double absolute = kDefaultAbsolute;
};

// nullopt when the tensors match; otherwise a one-line description of the first difference
// (and how many elements differ).
std::optional<std::string> compare_tensors(const Tensor& expected, const Tensor& actual,
                                           const Tolerance& tolerance);

}  // namespace kiln::conformance
