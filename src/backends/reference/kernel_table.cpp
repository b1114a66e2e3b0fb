#include "backends/reference/kernel.h"

namespace kiln::reference {

KernelFn find_kernel(OpKind kind) {
  static const KernelTable table = [] {
    KernelTable t;
    register_elementwise_kernels(t);
    register_nn_kernels(t);
    register_linalg_kernels(t);
    register_reduce_kernels(t);
    register_tensor_kernels(t);
    register_quantize_kernels(t);
    register_fused_kernels(t);
    return t;
  }();
  return table.find(kind);
}

}  // namespace kiln::reference
