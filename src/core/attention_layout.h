// The `qkv_layout` attribute of ScaledDotProductAttention (docs/fused-ops.md): "BHSD" (the
// default) means Q [B, H, Sq, D], K [B, H, Sk, D], V [B, H, Sk, Dv] and the output [B, H, Sq, Dv];
// "BSHD" swaps the heads and sequence axes of all four, which is what a Reshape of a
// [B, S, H * D] projection gives, so no Transpose is needed around the attention. One decoder
// for the schema, the passes and every backend, so they cannot disagree on what a value means.
#pragma once

#include <cstddef>
#include <string>

#include "core/attributes.h"
#include "kiln/status.h"

namespace kiln {

constexpr const char* kQkvLayoutAttr = "qkv_layout";

enum class QkvLayout { kBHSD, kBSHD };

// Where batch, heads, sequence and head size sit in a rank-4 operand (Q, K, V or the output).
struct QkvAxes {
  size_t batch, heads, seq, dim;
};

constexpr QkvAxes qkv_axes(QkvLayout layout) {
  return layout == QkvLayout::kBHSD ? QkvAxes{0, 1, 2, 3} : QkvAxes{0, 2, 1, 3};
}

constexpr const char* qkv_layout_name(QkvLayout layout) { return layout == QkvLayout::kBHSD ? "BHSD" : "BSHD"; }

// Absent means "BHSD"; any other string is an error (a typo must not silently mean BHSD).
inline Result<QkvLayout> decode_qkv_layout(const Attributes& attrs) {
  const std::string v = attrs.get_string(kQkvLayoutAttr, qkv_layout_name(QkvLayout::kBHSD));
  if (v == qkv_layout_name(QkvLayout::kBHSD)) return QkvLayout::kBHSD;
  if (v == qkv_layout_name(QkvLayout::kBSHD)) return QkvLayout::kBSHD;
  return invalid_argument(std::string("attribute '") + kQkvLayoutAttr + "' is \"" + v + "\", expected \"BHSD\" or \"BSHD\"");
}

}  // namespace kiln
