// Runs one node through the CudaBackend (NodeDesc -> prepare -> execute on device buffers) and
// through the reference backend on the same values, and compares every output.
//
// Float inputs are given as float32 tensors whose values are already rounded to the storage
// dtype (random_values does that), so both sides see exactly the same numbers; the device gets
// them in the storage dtype, the reference in float32. Integer and bool inputs are used as is.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "backends/cuda/cuda_backend.h"
#include "core/attributes.h"
#include "core/op_kind.h"
#include "kiln/tensor.h"

namespace kiln::cuda::testing {

struct CaseInput {
  Tensor value;                         // float32 for float storage, else the exact tensor
  DType storage = DType::kUndefined;    // kUndefined: value's own dtype
  bool constant = false;                // also passed to prepare as a build-time constant
  bool absent = false;                  // an omitted optional input
};

struct OpCase {
  OpKind op = OpKind::kCount;
  Attributes attrs;
  std::vector<CaseInput> inputs;
  // Storage dtype per output; empty: input 0's storage dtype for every output.
  std::vector<DType> output_storage;
  int32_t tactic = 0;
  // Run execute() inside a CUDA graph capture and launch the graph instead.
  bool capture = false;
  // For ops the reference backend spells differently (fused ops before ops.def lists them):
  // the expected outputs, already computed; the reference is not run.
  std::vector<Tensor> expected;
  double tolerance = 0.0;  // 0: by the output's storage dtype (exact for integers); < 0: exact
};

// The backend shared by all tests (nullptr without a GPU; tests skip before asking).
const CudaBackend* test_backend();

// A float input rounded to `storage`, uniform in [lo, hi).
CaseInput float_input(DType storage, const Shape& shape, float lo, float hi, uint32_t salt, bool constant = false);

// Runs the case on both backends and checks every output; `label` names it in the log.
void expect_case_matches(const OpCase& c, const std::string& label);

// Float values of any float/int/bool tensor.
std::vector<float> as_floats(const Tensor& t);

// The reference backend's outputs for `op` on float32/int inputs.
std::vector<Tensor> reference_outputs(OpKind op, const std::vector<const Tensor*>& inputs, const Attributes& attrs,
                                      size_t output_count);

}  // namespace kiln::cuda::testing
