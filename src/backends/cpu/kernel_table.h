// How the CPU backend finds a kernel for an op: each kernels/<op>.cpp registers, per OpKind, a
// supports() predicate, its tactics and a factory. Kernels see core types only.
#pragma once

#include <memory>
#include <vector>

#include "backends/backend.h"

namespace kiln::backends::cpu {

// What every kernel factory gets from the backend.
struct CpuConfig {
  int threads = 1;
};

using SupportsFn = bool (*)(const NodeDesc& node);
using TacticsFn = std::vector<Tactic> (*)(const NodeDesc& node);
using MakeKernelFn = Result<std::unique_ptr<Kernel>> (*)(const NodeDesc& node, int32_t tactic, const CpuConfig& config);

struct CpuOp {
  SupportsFn supports = nullptr;
  MakeKernelFn make = nullptr;
  TacticsFn tactics = nullptr;  // nullptr: the single tactic 0 "default"
};

class CpuKernelTable {
 public:
  void add(OpKind kind, CpuOp op) { ops_[static_cast<size_t>(kind)] = op; }
  const CpuOp* find(OpKind kind) const {
    const auto i = static_cast<size_t>(kind);
    return i < ops_.size() && ops_[i].make ? &ops_[i] : nullptr;
  }

 private:
  std::vector<CpuOp> ops_ = std::vector<CpuOp>(kOpKindCount);
};

const CpuKernelTable& cpu_kernel_table();

// One registration function per kernel file (src/backends/cpu/kernels/<op>.cpp).
void register_conv_kernels(CpuKernelTable& table);
void register_matmul_kernels(CpuKernelTable& table);
void register_gemm_kernels(CpuKernelTable& table);
void register_pool_kernels(CpuKernelTable& table);
void register_batch_norm_kernels(CpuKernelTable& table);
void register_elementwise_binary_kernels(CpuKernelTable& table);
void register_elementwise_unary_kernels(CpuKernelTable& table);
void register_softmax_kernels(CpuKernelTable& table);
void register_layer_norm_kernels(CpuKernelTable& table);
void register_attention_kernels(CpuKernelTable& table);
void register_gather_kernels(CpuKernelTable& table);
void register_transpose_kernels(CpuKernelTable& table);
void register_split_kernels(CpuKernelTable& table);
void register_copy_kernels(CpuKernelTable& table);
void register_cast_kernels(CpuKernelTable& table);
void register_expand_kernels(CpuKernelTable& table);
void register_slice_kernels(CpuKernelTable& table);
void register_where_kernels(CpuKernelTable& table);
void register_logical_kernels(CpuKernelTable& table);

}  // namespace kiln::backends::cpu
