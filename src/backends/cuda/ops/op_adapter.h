// What each ops/<op>.cpp provides: a check (why a node is or is not supported), optional
// tactics, and prepare. Each file registers its ops in the adapter table under their OpKind
// (fused ops by name, so the table builds whether or not ops.def lists them yet).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "backends/backend.h"
#include "backends/cuda/cuda_backend.h"
#include "backends/cuda/vendor/cublaslt_matmul.h"
#include "backends/cuda/vendor/cudnn_handle.h"
#include "core/op_kind.h"
#include "kiln/status.h"

namespace kiln::cuda {

struct CudaContext {
  CudaBackendOptions options;
  std::shared_ptr<CudnnHandle> cudnn;
  std::shared_ptr<CublasLtHandle> cublaslt;
};

using backends::ExecuteArgs;
using backends::Kernel;
using backends::NodeDesc;
using backends::Tactic;
using backends::TensorDesc;

struct OpAdapter {
  Status (*check)(const CudaContext& context, const NodeDesc& node) = nullptr;
  // nullptr: the single tactic {0, "default"}.
  Result<std::vector<Tactic>> (*tactics)(const CudaContext& context, const NodeDesc& node) = nullptr;
  Result<std::unique_ptr<Kernel>> (*prepare)(const CudaContext& context, const NodeDesc& node, int32_t tactic) = nullptr;
};

class AdapterTable {
 public:
  void add(OpKind kind, OpAdapter adapter);
  // Registers under the op named `name` when ops.def has it.
  void add_by_name(const char* name, OpAdapter adapter);
  const OpAdapter* find(OpKind kind) const;

 private:
  std::vector<OpAdapter> adapters_ = std::vector<OpAdapter>(kOpKindCount);
};

const AdapterTable& adapter_table();

void register_elementwise_ops(AdapterTable& table);
void register_copy_ops(AdapterTable& table);
void register_softmax_ops(AdapterTable& table);
void register_layer_norm_ops(AdapterTable& table);
void register_matmul_ops(AdapterTable& table);
void register_conv_ops(AdapterTable& table);
void register_pool_ops(AdapterTable& table);
void register_gather_ops(AdapterTable& table);
void register_transpose_ops(AdapterTable& table);
void register_slice_ops(AdapterTable& table);
void register_concat_ops(AdapterTable& table);
void register_split_ops(AdapterTable& table);
void register_cast_ops(AdapterTable& table);
void register_where_ops(AdapterTable& table);
void register_logical_ops(AdapterTable& table);
void register_expand_ops(AdapterTable& table);
void register_attention_ops(AdapterTable& table);

// A kernel made of a closure: adapters capture their prepared state (plans, shapes) by value.
class FunctionKernel final : public Kernel {
 public:
  using Body = std::function<Status(const ExecuteArgs&)>;
  FunctionKernel(std::string description, size_t workspace_bytes, Body body)
      : description_(std::move(description)), workspace_bytes_(workspace_bytes), body_(std::move(body)) {}
  size_t workspace_bytes() const override { return workspace_bytes_; }
  Status execute(const ExecuteArgs& args) const override { return body_(args); }
  std::string describe() const override { return description_; }

 private:
  std::string description_;
  size_t workspace_bytes_;
  Body body_;
};

inline Result<std::unique_ptr<Kernel>> make_kernel(std::string description, size_t workspace_bytes, FunctionKernel::Body body) {
  return std::unique_ptr<Kernel>(std::make_unique<FunctionKernel>(std::move(description), workspace_bytes, std::move(body)));
}

inline cudaStream_t stream_of(const ExecuteArgs& args) { return static_cast<cudaStream_t>(args.stream); }

// --- checks shared by the adapters ---
bool is_float_storage(DType dtype);
// An error naming the op unless `condition` holds.
Status expect(bool condition, const NodeDesc& node, const std::string& what);
// Input i is present (and has a static shape).
Status expect_input(const NodeDesc& node, size_t i);
// Inputs [0, count) and output 0 exist; input 0 and output 0 share a float storage dtype.
Status expect_float_io(const NodeDesc& node, size_t count);
// Rejects present outputs past the first (Mean/InvStdDev, MaxPool Indices, Dropout mask).
Status expect_single_output(const NodeDesc& node);
// The constant input i as int64 values (int32 accepted), or an error when it is not known at
// build time.
Result<std::vector<int64_t>> constant_ints(const NodeDesc& node, size_t i);
// The constant input i as one float (any float dtype), or an error.
Result<float> constant_scalar(const NodeDesc& node, size_t i);
// Pointer arguments: args.inputs/outputs have at least the node's count.
Status expect_args(const ExecuteArgs& args, size_t inputs, size_t outputs);

}  // namespace kiln::cuda
