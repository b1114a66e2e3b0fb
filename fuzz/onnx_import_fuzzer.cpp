// libFuzzer entry point: arbitrary bytes -> the ONNX importer (with shape inference) -> the
// verifier. Any crash, leak or undefined behaviour is a bug; errors are the expected outcome.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ir/verifier.h"
#include "onnx/importer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto graph = kiln::onnx_import::import_bytes(bytes, "", {});
  if (graph.ok()) {
    kiln::Status verified = kiln::ir::verify(*graph);
    (void)verified;
  }
  return 0;
}
