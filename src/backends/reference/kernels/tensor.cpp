#include "backends/reference/kernel.h"

namespace kiln::reference {

void register_tensor_kernels(KernelTable& table) { (void)table; }

}  // namespace kiln::reference
