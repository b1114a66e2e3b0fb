// ONNX -> IR. Opset differences are resolved here and only here: the IR always has the
// opset-17 form of each op (for example Squeeze axes, Split sizes and Reduce axes as inputs).
#pragma once

#include <string>
#include <string_view>

#include "ir/graph.h"
#include "kiln/status.h"

namespace kiln::onnx_import {

struct ImportOptions {
  // Run IR shape inference and the verifier after import (off only for tests of the importer).
  bool infer_and_verify = true;
};

// Reads a .onnx file; external-data files are resolved relative to its directory.
Result<ir::Graph> import_file(const std::string& path, const ImportOptions& options = {});
// Parses serialized ModelProto bytes; `base_dir` locates external data ("" disables it).
Result<ir::Graph> import_bytes(std::string_view bytes, const std::string& base_dir,
                               const ImportOptions& options = {});

}  // namespace kiln::onnx_import
