// Practice 4 in DESIGN.md: every op in ops.def has a schema and a reference kernel.
#include <gtest/gtest.h>

#include "backends/reference/kernel.h"
#include "ir/op_schema.h"

namespace kiln {
namespace {

TEST(Registry, EveryOpHasASchema) {
  for (size_t i = 0; i < kOpKindCount; ++i) {
    auto kind = static_cast<OpKind>(i);
    const ir::OpSchema* schema = ir::find_schema(kind);
    EXPECT_NE(schema, nullptr) << op_kind_name(kind) << " has no schema";
    if (schema) {
      EXPECT_NE(schema->infer, nullptr) << op_kind_name(kind) << " has no shape inference";
    }
  }
}

TEST(Registry, EveryOpHasAReferenceKernel) {
  for (size_t i = 0; i < kOpKindCount; ++i) {
    auto kind = static_cast<OpKind>(i);
    EXPECT_NE(reference::find_kernel(kind), nullptr) << op_kind_name(kind) << " has no reference kernel";
  }
}

TEST(Registry, NamesRoundTrip) {
  for (size_t i = 0; i < kOpKindCount; ++i) {
    auto kind = static_cast<OpKind>(i);
    EXPECT_EQ(op_kind_from_name(op_kind_name(kind)), kind);
  }
}

}  // namespace
}  // namespace kiln
