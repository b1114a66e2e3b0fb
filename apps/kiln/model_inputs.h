// Builds the input tensors for `kiln run` and `kiln bench`: user-given .npy files, and seeded
// random data for the rest (floats uniform in [-1, 1], integers uniform in [0, 8), bools 50/50).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kiln/session.h"
#include "kiln/shape.h"
#include "kiln/status.h"
#include "kiln/tensor.h"

namespace kiln::cli {

struct InputRequest {
  std::vector<std::string> files;          // "NAME=FILE.npy"
  std::map<std::string, Shape> shapes;     // --shapes
  std::optional<int64_t> batch;            // --batch: dim 0 of inputs whose dim 0 is dynamic
  uint64_t seed = 0;
};

// The model inputs that must be fed (initializers listed as inputs are left out).
std::vector<TensorInfo> required_inputs(const Session& session);

// Seeded random data for one input of `shape` (as for the inputs prepare_inputs makes up).
Result<Tensor> random_input(const TensorInfo& info, const Shape& shape, uint64_t seed);

// One tensor per required input, checked against the declared dtype and shape. Dynamic dims
// come from --shapes, --batch, a dim of the same symbol fixed elsewhere, or default to 1.
Result<std::map<std::string, Tensor>> prepare_inputs(const Session& session, const InputRequest& request);

}  // namespace kiln::cli
