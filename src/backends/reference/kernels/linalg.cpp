// Registration entry point of the linalg family's reference kernels; each op lives in its own
// file (matmul.cpp, gemm.cpp, einsum.cpp, softmax.cpp, resize.cpp, space_depth.cpp).
#include "backends/reference/kernels/linalg_kernels.h"

namespace kiln::reference {

void register_linalg_kernels(KernelTable& table) {
  linalg::register_matmul_kernels(table);
  linalg::register_gemm_kernel(table);
  linalg::register_einsum_kernel(table);
  linalg::register_softmax_kernels(table);
  linalg::register_resize_kernel(table);
  linalg::register_space_depth_kernels(table);
}

}  // namespace kiln::reference
