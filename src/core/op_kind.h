// OpKind: the enum generated from ops.def. It lives in core because the IR, the backends and
// the plan format all name ops, and backends may not depend on the IR.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace kiln {

enum class OpKind : uint16_t {
#define KILN_OP(name) name,
#include "core/ops.def"
#undef KILN_OP
  kCount,
};

inline constexpr size_t kOpKindCount = static_cast<size_t>(OpKind::kCount);

std::string_view op_kind_name(OpKind kind);
std::optional<OpKind> op_kind_from_name(std::string_view name);

}  // namespace kiln
