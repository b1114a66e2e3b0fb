// The public entry point for running a model: open a model file, inspect its inputs and
// outputs, run inferences. Thread-safe: run() may be called from several threads at once.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kiln/dtype.h"
#include "kiln/status.h"
#include "kiln/tensor.h"

namespace kiln {

struct TensorInfo {
  std::string name;
  DType dtype = DType::kUndefined;
  std::vector<int64_t> dims;            // kDynamicDim for unknown sizes; empty for scalars
  std::vector<std::string> dim_names;   // symbolic names of unknown dims ("" if none)
  bool rank_known = true;
  bool has_default = false;             // an initializer also listed as an input: feeding it is optional
};

struct SessionOptions {
  int threads = 0;  // 0: the backend's default
};

class Session {
 public:
  virtual ~Session() = default;
  // Opens an .onnx model (imported and run on the reference backend for now).
  static Result<std::unique_ptr<Session>> open(const std::string& model_path,
                                               const SessionOptions& options = {});

  virtual const std::vector<TensorInfo>& inputs() const = 0;
  virtual const std::vector<TensorInfo>& outputs() const = 0;
  // Runs one inference. Every model input must be given, with the declared dtype and a shape
  // that fits the declared one; the result holds one tensor per model output, in order.
  virtual Result<std::vector<Tensor>> run(const std::map<std::string, Tensor>& inputs) const = 0;
};

}  // namespace kiln
