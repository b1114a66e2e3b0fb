// Importer-internal: brings each node from the opset the model was written for into the IR form
// (the opset-17 form of every op; Reduce* in the opset-18 form with axes as an input). This is
// the only place in kiln that knows about older opsets; docs/onnx-import.md lists each upgrade.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/attributes.h"
#include "core/op_kind.h"
#include "ir/graph.h"
#include "kiln/status.h"

namespace kiln::onnx_import {

// One node as read from the model, before it is added to the graph.
struct NodeDraft {
  std::string op_type;                // the ONNX op type ("Upsample" maps to kind Resize)
  OpKind op = OpKind::kCount;
  std::string name;                   // never empty: unnamed nodes get a generated name
  std::vector<ir::Value*> inputs;     // nullptr = absent optional input
  std::vector<ir::Value*> outputs;    // nullptr = unused optional output
  Attributes attrs;
};

// The IR op for a default-domain op type, including ops that the IR only has under a newer
// name (Upsample -> Resize, Scatter -> ScatterElements). nullopt: unsupported.
std::optional<OpKind> ir_op_for(const std::string& op_type);

// Adds `node` to `graph` in the IR form, given the model's default-domain opset. Some upgrades
// add helper constants and nodes (named after the node). Errors name the node.
Status emit_in_ir_form(ir::Graph& graph, NodeDraft node, int64_t opset);

// --- used by the rewrites in opset_rewrites.cpp ---

// A 1-D int64 constant named after the node.
ir::Value* int64_constant(ir::Graph& graph, const NodeDraft& node, const std::string& suffix,
                          const std::vector<int64_t>& values);
// A 1-D float32 constant named after the node.
ir::Value* float_constant(ir::Graph& graph, const NodeDraft& node, const std::string& suffix,
                          const std::vector<float>& values);
// Sets input `index`, filling the gap with absent inputs.
void set_input(NodeDraft& node, size_t index, ir::Value* value);
// "Softmax 'sm_1' (opset 11)" for messages.
std::string describe_draft(const NodeDraft& node, int64_t opset);

// Softmax / LogSoftmax / Hardmax before opset 13 (2-D coercion at `axis`).
Status emit_coerced_softmax(ir::Graph& graph, NodeDraft node, int64_t opset);
// Upsample (any opset) and Resize-10 -> Resize in the opset-11+ form.
Status emit_legacy_resize(ir::Graph& graph, NodeDraft node, int64_t opset);

}  // namespace kiln::onnx_import
