// Helpers for CPU-backend-vs-reference tests: seeded random inputs, one op run through the
// Backend interface (NodeDesc -> supports -> prepare -> execute on host buffers) and through the
// reference kernel, and the error metric with per-op tolerances.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "core/attributes.h"
#include "core/op_kind.h"
#include "kiln/tensor.h"

namespace kiln::backends::cpu::testing {

// Bounds on max_relative_error: exact data movement, one rounding per element, FP32 math whose
// summation order differs from the reference's (GEMM, reductions), and the polynomial exp/erf.
inline constexpr double kExact = 0.0;
inline constexpr double kElementwiseTolerance = 1e-6;
inline constexpr double kTranscendentalTolerance = 2e-6;
inline constexpr double kReductionTolerance = 1e-5;
inline constexpr double kGemmTolerance = 1e-4;

// A float32 tensor of `shape` with values uniform in [lo, hi), seeded from the test name and salt.
Tensor random_tensor(const Shape& shape, uint32_t salt, float lo = -1.0f, float hi = 1.0f);
Tensor int64_tensor(const Shape& shape, const std::vector<int64_t>& values);

struct OpCase {
  OpKind op = OpKind::kCount;
  std::vector<Tensor> inputs;  // an undefined Tensor marks an absent optional input
  std::vector<size_t> constant_inputs;  // passed to prepare() as build-time constants
  Attributes attrs;
  size_t outputs = 1;
};

// The node description the builder would make: input descs from the tensors, output descs from
// the reference kernel's outputs.
NodeDesc describe(const OpCase& c, const std::vector<Tensor>& reference_outputs);

std::vector<Tensor> run_reference(const OpCase& c);

// Runs `c` on the CPU backend with `tactic` and `threads`; outputs are shaped like `expected`.
Result<std::vector<Tensor>> run_cpu(const OpCase& c, const std::vector<Tensor>& expected, int32_t tactic = 0,
                                    int threads = 2);

// max_i |got_i - ref_i| / max(|ref_i|, rms(ref)) over float32 tensors; for other dtypes 0 when
// the bytes match exactly, infinity otherwise. Shape mismatches are test failures.
double max_relative_error(const Tensor& got, const Tensor& ref);

// Runs c on both backends (every tactic of the CPU kernel) and expects output 0 within tolerance.
void expect_matches_reference(const OpCase& c, double tolerance, const std::string& label, int threads = 2);

}  // namespace kiln::backends::cpu::testing
