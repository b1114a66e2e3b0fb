// Importer-internal: models of default-domain opsets 1 to 6 (before ONNX 1.2's opset 7). Most
// ops kept their meaning since then and only lost legacy attributes (consumed_inputs, a memory
// hint); those are imported. Ops whose old form means something else (Reshape's shape attribute,
// Cast's string 'to', the old axis-aligned broadcasting, BatchNormalization's is_test) are
// refused, so that an accepted model always computes what its opset says.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "onnx/opset_upgrade.h"

namespace onnx {
class NodeProto;
}  // namespace onnx

namespace kiln::onnx_import {

// The first opset whose every supported op is imported without the checks below.
inline constexpr int64_t kFirstModernOpset = 7;

// Why `node` of a model at default-domain `opset` (< kFirstModernOpset) cannot be imported, or
// nullopt when its op has the same meaning as in the IR form.
std::optional<std::string> legacy_node_refusal(const onnx::NodeProto& node, int64_t opset);

// Removes the attributes that opsets before 7 had and later ones dropped without changing the
// op's meaning (consumed_inputs; broadcast, whose numpy-style behaviour is now the default).
void drop_legacy_attributes(NodeDraft& node);

}  // namespace kiln::onnx_import
