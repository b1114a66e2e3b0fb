#include "backends/cpu/cpu_backend.h"

#include <algorithm>
#include <string>
#include <thread>

#include "backends/cpu/kernel_table.h"
#include "core/channel_block.h"
#include "core/channels_last.h"

namespace kiln::backends::cpu {

const CpuKernelTable& cpu_kernel_table() {
  static const CpuKernelTable table = [] {
    CpuKernelTable t;
    register_conv_kernels(t);
    register_matmul_kernels(t);
    register_gemm_kernels(t);
    register_pool_kernels(t);
    register_batch_norm_kernels(t);
    register_elementwise_binary_kernels(t);
    register_elementwise_unary_kernels(t);
    register_softmax_kernels(t);
    register_layer_norm_kernels(t);
    register_attention_kernels(t);
    register_gather_kernels(t);
    register_transpose_kernels(t);
    register_split_kernels(t);
    register_copy_kernels(t);
    register_cast_kernels(t);
    register_expand_kernels(t);
    register_slice_kernels(t);
    register_where_kernels(t);
    register_logical_kernels(t);
    return t;
  }();
  return table;
}

CpuBackend::CpuBackend(CpuBackendOptions options) {
  const int hardware = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  threads_ = options.threads > 0 ? options.threads : hardware;
}

namespace {

// Every tensor of the node must be static; present ones are checked by the op's own predicate.
bool static_shapes(const NodeDesc& node) {
  for (const TensorDesc& t : node.inputs)
    if (t.present() && !t.shape.is_static()) return false;
  for (const TensorDesc& t : node.outputs)
    if (t.present() && !t.shape.is_static()) return false;
  return node.attributes != nullptr;
}

}  // namespace

bool CpuBackend::supports(const NodeDesc& node) const {
  const CpuOp* op = cpu_kernel_table().find(node.op);
  // Only the conv and pool kernels read channels_last (docs/fused-ops.md); any other node with
  // the attribute goes to the reference backend.
  const bool reads_channels_last = node.op == OpKind::Conv || node.op == OpKind::FusedConv || node.op == OpKind::MaxPool ||
                                   node.op == OpKind::AveragePool || node.op == OpKind::GlobalAveragePool;
  if (node.attrs().get_int(kChannelsLastAttr, 0) != 0 && !reads_channels_last) return false;
  // channel_block is defined for FusedConv only; the conv kernel reads it.
  const bool reads_channel_block = node.op == OpKind::FusedConv;
  if (node.attrs().get_int(kChannelBlockAttr, 0) != 0 && !reads_channel_block) return false;
  return op && static_shapes(node) && op->supports(node);
}

std::vector<Tactic> CpuBackend::tactics(const NodeDesc& node) const {
  const CpuOp* op = cpu_kernel_table().find(node.op);
  if (op && op->tactics) return op->tactics(node);
  return {{0, "default"}};
}

Result<std::unique_ptr<Kernel>> CpuBackend::prepare(const NodeDesc& node, int32_t tactic) const {
  const std::string where = "cpu backend, node '" + node.name + "' (" + std::string(op_kind_name(node.op)) + ")";
  if (!supports(node)) return unimplemented(where + ": op, dtypes, shapes or attributes not supported");
  const CpuConfig config{threads_};
  auto kernel = cpu_kernel_table().find(node.op)->make(node, tactic, config);
  if (!kernel.ok()) return kernel.status().with_context(where);
  return kernel;
}

}  // namespace kiln::backends::cpu
