#include "core/op_kind.h"

#include <array>

namespace kiln {
namespace {

constexpr std::array<std::string_view, kOpKindCount> kNames = {
#define KILN_OP(name) #name,
#include "core/ops.def"
#undef KILN_OP
};

}  // namespace

std::string_view op_kind_name(OpKind kind) {
  auto i = static_cast<size_t>(kind);
  return i < kNames.size() ? kNames[i] : std::string_view("<invalid op>");
}

std::optional<OpKind> op_kind_from_name(std::string_view name) {
  for (size_t i = 0; i < kNames.size(); ++i)
    if (kNames[i] == name) return static_cast<OpKind>(i);
  return std::nullopt;
}

}  // namespace kiln
