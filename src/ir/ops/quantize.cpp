#include "ir/ops/families.h"

namespace kiln::ir {

void register_quantize_schemas(SchemaRegistry& registry) { (void)registry; }

}  // namespace kiln::ir
