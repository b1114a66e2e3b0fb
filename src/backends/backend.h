// The narrow interface every execution backend implements (reference, cpu, cuda). Backends see
// core types only -- an OpKind, an Attributes map and concrete tensor descriptions -- never the
// IR, so that the runtime can rebuild kernels from a plan file without linking the importer,
// the passes or the builder.
//
// Life cycle (who owns what):
//   builder:  supports(node) -> tactics(node) -> prepare(node, tactic) for each candidate,
//             times Kernel::execute, keeps the fastest tactic id in the plan.
//   runtime:  prepare(node, tactic from the plan) once per engine; the Kernel is then shared by
//             every ExecutionContext of that engine. execute() is const, allocation-free and
//             thread-safe: each context passes its own buffers, workspace and stream.
//   buffers:  the runtime owns all activation memory (one arena per context) and the constant
//             tensors (uploaded once per engine). A kernel owns only what prepare() made for it
//             (reordered weights, library plans, descriptors).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/attributes.h"
#include "core/op_kind.h"
#include "kiln/dtype.h"
#include "kiln/shape.h"
#include "kiln/status.h"
#include "kiln/tensor.h"

namespace kiln::backends {

// Where a backend's buffers live: the runtime allocates activations and uploads constants there.
enum class DeviceKind { kHost, kCuda };

// A tensor as a kernel sees it at prepare time: dtype and a static shape. dtype kUndefined marks
// an absent optional input.
struct TensorDesc {
  DType dtype = DType::kUndefined;
  Shape shape;
  bool present() const { return dtype != DType::kUndefined; }
};

// One node with everything prepare() may look at.
struct NodeDesc {
  OpKind op = OpKind::kCount;
  std::string name;                    // the node's name, for error messages and profiles
  const Attributes* attributes = nullptr;
  std::vector<TensorDesc> inputs;
  std::vector<TensorDesc> outputs;
  // Per input: its host value when it is known at build time (weights, folded constants),
  // nullptr otherwise. A kernel may copy or reorder it at prepare time; the runtime passes the
  // (device-resident) constant to execute() as well.
  std::vector<const Tensor*> constants;
  // Float32 matrix products and convolutions may use TF32 tensor cores (kiln build --tf32).
  bool allow_tf32 = false;

  const Attributes& attrs() const { return *attributes; }
  const Tensor* constant(size_t i) const { return i < constants.size() ? constants[i] : nullptr; }
};

// One way a backend can run a node (a cuDNN engine, a cuBLASLt algorithm, an own kernel). Ids
// are stable for a given backend version: the plan stores them.
struct Tactic {
  int32_t id = 0;
  std::string name;
};

// Buffers for one execution. Pointers are in the backend's DeviceKind memory; absent optional
// inputs are nullptr. workspace holds at least Kernel::workspace_bytes().
struct ExecuteArgs {
  std::vector<const void*> inputs;
  std::vector<void*> outputs;
  void* workspace = nullptr;
  void* stream = nullptr;  // cudaStream_t for kCuda; unused on the host
};

class Kernel {
 public:
  virtual ~Kernel() = default;
  virtual size_t workspace_bytes() const { return 0; }
  // Runs the node. const and allocation-free (see the life cycle above).
  virtual Status execute(const ExecuteArgs& args) const = 0;
  // The chosen implementation, for kiln inspect and profiles ("cudnn engine 3", "onednn brgemm").
  virtual std::string describe() const = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string_view name() const = 0;
  virtual DeviceKind device() const = 0;
  // Whether prepare() can build a kernel for this node (op, dtypes, shapes, attributes).
  virtual bool supports(const NodeDesc& node) const = 0;
  // Candidates the builder times; never empty when supports() is true.
  virtual std::vector<Tactic> tactics(const NodeDesc& /*node*/) const { return {{0, "default"}}; }
  // Builds the kernel for one tactic. Errors name the node and what is unsupported.
  virtual Result<std::unique_ptr<Kernel>> prepare(const NodeDesc& node, int32_t tactic) const = 0;
};

}  // namespace kiln::backends
