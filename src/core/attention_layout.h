// The `qkv_layout` attribute of ScaledDotProductAttention (docs/fused-ops.md): "BHSD" (the
// default) means Q [B, H, Sq, D], K [B, H, Sk, D], V [B, H, Sk, Dv] and the output [B, H, Sq, Dv];
// "BSHD" swaps the heads and sequence axes of all four, which is what a Reshape of a
// [B, S, H * D] projection gives, so no Transpose is needed around the attention. "BS3HD" reads
// all three from packed [B, S, 3, H, D] operands (one fused Q/K/V projection reshaped, no Split
// copy): Q is slot 0 of input 0, K slot 1 of input 1, V slot 2 of input 2 (normally the same
// tensor three times), and the output is [B, S, H, D]. One decoder for the schema, the passes
// and every backend, so they cannot disagree on what a value means.
#pragma once

#include <cstddef>
#include <string>

#include "core/attributes.h"
#include "kiln/status.h"

namespace kiln {

constexpr const char* kQkvLayoutAttr = "qkv_layout";

enum class QkvLayout { kBHSD, kBSHD, kBS3HD };

// Where batch, heads, sequence and head size sit in an operand (Q, K, V) of `layout`; `slot` is
// the packed axis of BS3HD (unused otherwise). The output of BS3HD is BSHD.
struct QkvAxes {
  size_t batch, heads, seq, dim, slot = 0;
};

constexpr QkvAxes qkv_axes(QkvLayout layout) {
  switch (layout) {
    case QkvLayout::kBHSD: return QkvAxes{0, 1, 2, 3};
    case QkvLayout::kBSHD: return QkvAxes{0, 2, 1, 3};
    case QkvLayout::kBS3HD: return QkvAxes{0, 3, 1, 4, 2};
  }
  return QkvAxes{0, 1, 2, 3};
}

// The layout of the output: the operands' own, except that packed operands give BSHD.
constexpr QkvLayout qkv_output_layout(QkvLayout layout) {
  return layout == QkvLayout::kBS3HD ? QkvLayout::kBSHD : layout;
}

// Rank of Q, K and V: 4, or 5 for the packed layout.
constexpr size_t qkv_operand_rank(QkvLayout layout) { return layout == QkvLayout::kBS3HD ? 5 : 4; }

// Slots of a packed operand (Q, K, V).
constexpr int64_t kPackedQkvSlots = 3;

constexpr const char* qkv_layout_name(QkvLayout layout) {
  switch (layout) {
    case QkvLayout::kBHSD: return "BHSD";
    case QkvLayout::kBSHD: return "BSHD";
    case QkvLayout::kBS3HD: return "BS3HD";
  }
  return "BHSD";
}

// How the operands of `layout` are laid out, for error messages.
constexpr const char* qkv_layout_dims(QkvLayout layout) {
  switch (layout) {
    case QkvLayout::kBHSD: return "4-D [batch, heads, sequence, head size]";
    case QkvLayout::kBSHD: return "4-D [batch, sequence, heads, head size]";
    case QkvLayout::kBS3HD: return "5-D [batch, sequence, 3, heads, head size]";
  }
  return "";
}

// Absent means "BHSD"; any other string is an error (a typo must not silently mean BHSD).
inline Result<QkvLayout> decode_qkv_layout(const Attributes& attrs) {
  const std::string v = attrs.get_string(kQkvLayoutAttr, qkv_layout_name(QkvLayout::kBHSD));
  for (QkvLayout layout : {QkvLayout::kBHSD, QkvLayout::kBSHD, QkvLayout::kBS3HD})
    if (v == qkv_layout_name(layout)) return layout;
  return invalid_argument(std::string("attribute '") + kQkvLayoutAttr + "' is \"" + v +
                          "\", expected \"BHSD\", \"BSHD\" or \"BS3HD\"");
}

}  // namespace kiln
