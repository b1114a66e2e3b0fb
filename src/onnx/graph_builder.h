// Importer-internal: a parsed ModelProto -> ir::Graph in the IR form of every op.
#pragma once

#include <string>

#include "ir/graph.h"
#include "kiln/status.h"
#include "onnx/model_loader.h"

namespace onnx {
class ModelProto;
}  // namespace onnx

namespace kiln::onnx_import {

// Unsupported ops are all collected first and reported in one UNIMPLEMENTED error. External
// data is read relative to `base_dir` ("" disables it). Messages do not carry the model path;
// the caller prefixes it.
Result<ir::Graph> build_graph(const onnx::ModelProto& model, const Opsets& opsets, const std::string& base_dir);

}  // namespace kiln::onnx_import
