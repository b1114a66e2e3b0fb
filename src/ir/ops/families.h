// One registration function per op family (src/ir/ops/<family>.cpp). The schema registry calls
// each of them once.
#pragma once

#include "ir/op_schema.h"

namespace kiln::ir {

void register_elementwise_schemas(SchemaRegistry& registry);
void register_nn_schemas(SchemaRegistry& registry);
void register_linalg_schemas(SchemaRegistry& registry);
void register_reduce_schemas(SchemaRegistry& registry);
void register_tensor_schemas(SchemaRegistry& registry);
void register_quantize_schemas(SchemaRegistry& registry);
void register_fused_schemas(SchemaRegistry& registry);

}  // namespace kiln::ir
