// Runs one op through the whole stack (IR graph -> shape inference -> verifier -> reference
// executor) and checks that shape inference agrees with what the kernel produced. Every op
// test uses this, so a schema and its kernel are always tested together.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/attributes.h"
#include "core/op_kind.h"
#include "kiln/status.h"
#include "kiln/tensor.h"

namespace kiln::testing {

struct OpRun {
  OpKind op = OpKind::kCount;
  // An undefined Tensor stands for an absent optional input.
  std::vector<Tensor> inputs;
  Attributes attrs;
  size_t num_outputs = 1;
  // Feed inputs as constants (like initializers), so shape inference sees their data. Inputs
  // listed here by index become constants; the rest are graph inputs.
  std::vector<size_t> constant_inputs;
};

// Runs the op. Fails (with the stage named) when import-like checks, shape inference, the
// kernel, or the inferred-vs-actual comparison fail.
Result<std::vector<Tensor>> run_op(const OpRun& run);

// Fresh random data: floats uniform in [lo, hi], integers in [lo, hi], bools 50/50.
Tensor random_tensor(DType dtype, const Shape& shape, uint64_t seed, double lo = -1.0, double hi = 1.0);

// Builds a tensor from doubles (converted to dtype).
Tensor make_tensor(DType dtype, const Shape& shape, const std::vector<double>& values);
Tensor make_int64(const Shape& shape, const std::vector<int64_t>& values);

// Largest |a-b| / max(|b|, floor) over all elements, or an error message if shapes/dtypes differ.
// Compare with EXPECT_LE(max_relative_error(...), tol).
double max_relative_error(const Tensor& actual, const Tensor& expected, double floor = 1e-6);
// Values as doubles (for EXPECT_EQ on small results).
std::vector<double> values_of(const Tensor& t);

}  // namespace kiln::testing
