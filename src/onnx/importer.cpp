#include "onnx/importer.h"

namespace kiln::onnx_import {

Result<ir::Graph> import_file(const std::string& path, const ImportOptions& options) {
  (void)options;
  return unimplemented("ONNX import is not written yet: " + path);
}

Result<ir::Graph> import_bytes(std::string_view bytes, const std::string& base_dir, const ImportOptions& options) {
  (void)bytes;
  (void)options;
  return unimplemented("ONNX import is not written yet: " + base_dir);
}

}  // namespace kiln::onnx_import
