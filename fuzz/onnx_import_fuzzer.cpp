// libFuzzer entry point: arbitrary bytes -> the ONNX importer (with shape inference) -> the
// verifier. Any crash, leak or undefined behaviour is a bug; errors are the expected outcome.
// KILN_FUZZ_IMPORT_ONLY=1 skips shape inference, to fuzz the importer itself deeper while a
// schema bug found by the full pipeline is being fixed.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "ir/verifier.h"
#include "onnx/importer.h"

namespace {

bool import_only() {
  static const bool value = [] {
    const char* flag = std::getenv("KILN_FUZZ_IMPORT_ONLY");
    return flag != nullptr && std::string_view(flag) == "1";
  }();
  return value;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto graph = kiln::onnx_import::import_bytes(bytes, "", {.infer_and_verify = !import_only()});
  if (graph.ok()) {
    kiln::Status verified = kiln::ir::verify(*graph);
    (void)verified;
  }
  return 0;
}
