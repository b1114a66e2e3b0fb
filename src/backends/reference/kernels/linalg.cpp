#include "backends/reference/kernel.h"

namespace kiln::reference {

void register_linalg_kernels(KernelTable& table) { (void)table; }

}  // namespace kiln::reference
