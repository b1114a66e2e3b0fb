#include "ir/ops/families.h"

namespace kiln::ir {

void register_linalg_schemas(SchemaRegistry& registry) { (void)registry; }

}  // namespace kiln::ir
