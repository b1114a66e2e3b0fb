// The reference backend: slow, obviously correct kernels, one function per op, used as the
// ground truth every fast backend is tested against. Kernels see only core types (tensors and
// attributes), never the IR.
//
// Contract: a kernel reads ctx.inputs (nullptr for an absent optional input), computes output
// shapes itself from the concrete inputs, and assigns every present output slot in ctx.outputs
// (already sized to the node's output count) with a freshly allocated Tensor. Bad inputs (shape
// mismatch, out-of-range index) return an INVALID_ARGUMENT Status; kernels never abort.
#pragma once

#include <vector>

#include "core/attributes.h"
#include "core/op_kind.h"
#include "kiln/status.h"
#include "kiln/tensor.h"

namespace kiln::reference {

struct KernelContext {
  OpKind op = OpKind::kCount;
  std::vector<const Tensor*> inputs;
  const Attributes* attrs = nullptr;
  std::vector<Tensor> outputs;
  // Output slots the graph does not use are still computed; this flags which ones are wanted so
  // kernels with expensive optional outputs may skip them.
  std::vector<bool> output_wanted;

  size_t num_inputs() const { return inputs.size(); }
  size_t num_outputs() const { return outputs.size(); }
  const Tensor* input(size_t i) const { return i < inputs.size() ? inputs[i] : nullptr; }
  const Attributes& attributes() const { return *attrs; }
};

using KernelFn = Status (*)(KernelContext& ctx);

class KernelTable {
 public:
  void add(OpKind kind, KernelFn fn) { table_[static_cast<size_t>(kind)] = fn; }
  KernelFn find(OpKind kind) const {
    auto i = static_cast<size_t>(kind);
    return i < table_.size() ? table_[i] : nullptr;
  }

 private:
  std::vector<KernelFn> table_ = std::vector<KernelFn>(kOpKindCount, nullptr);
};

// The complete table, built once. nullptr for ops without a reference kernel (a kiln bug: a
// test checks every op in ops.def has one).
KernelFn find_kernel(OpKind kind);

// One registration function per family (src/backends/reference/kernels/<family>*.cpp).
void register_elementwise_kernels(KernelTable& table);
void register_nn_kernels(KernelTable& table);
void register_linalg_kernels(KernelTable& table);
void register_reduce_kernels(KernelTable& table);
void register_tensor_kernels(KernelTable& table);
void register_quantize_kernels(KernelTable& table);
void register_fused_kernels(KernelTable& table);

}  // namespace kiln::reference
