// Helpers for CUDA-vs-reference tests: the visible no-GPU skip, seeded random inputs rounded to
// the storage dtype, host <-> device transfer in any float storage dtype, reference-kernel
// calls and the error metric with its per-precision tolerances.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "backends/cuda/cuda_status.h"
#include "backends/cuda/device_buffer.h"
#include "core/attributes.h"
#include "core/op_kind.h"
#include "kiln/dtype.h"
#include "kiln/tensor.h"

namespace kiln::cuda::testing {

inline constexpr const char* kNoGpuMessage =
    "no CUDA device: GPU tests run on the device machine (scripts/gpu/run-tests.sh)";

// First statement of every GPU test.
#define KILN_REQUIRE_GPU()                                                              \
  do {                                                                                  \
    if (::kiln::cuda::cuda_device_count() == 0) GTEST_SKIP() << ::kiln::cuda::testing::kNoGpuMessage; \
  } while (0)

// Relative-error bounds (see max_relative_error): FP32 math, TF32 tensor cores, 16-bit storage.
inline constexpr double kFloat32Tolerance = 1e-5;
inline constexpr double kTF32Tolerance = 2e-3;
inline constexpr double kHalfTolerance = 1e-2;
double tolerance_for(DType dtype);

// n values uniform in [lo, hi), each rounded to what `dtype` can store (so the reference sees
// exactly the device's inputs). Seeded from the test name and `salt`.
std::vector<float> random_values(DType dtype, int64_t n, float lo, float hi, uint32_t salt);

// Device buffer holding `values` in `dtype` storage.
DeviceBuffer upload(DType dtype, const std::vector<float>& values);
// n elements of `dtype` storage read back as floats.
std::vector<float> download(DType dtype, const DeviceBuffer& buffer, int64_t n);

Tensor float_tensor(const Shape& shape, const std::vector<float>& values);
std::vector<float> tensor_values(const Tensor& tensor);

// Runs the reference kernel of `op` on float32 tensors; returns its first output.
Tensor run_reference(OpKind op, const std::vector<const Tensor*>& inputs, const Attributes& attrs = {});

// max_i |got_i - ref_i| / max(|ref_i|, rms(ref)): relative for ordinary elements, measured
// against the tensor's scale near zero (where a relative error says nothing).
double max_relative_error(const std::vector<float>& got, const std::vector<float>& ref);

// EXPECT_LT(error, tolerance), and the error printed ("max_rel_error <label> <error>") so the
// device log records how close each case came.
void expect_within(double error, double tolerance, const std::string& label);

}  // namespace kiln::cuda::testing
