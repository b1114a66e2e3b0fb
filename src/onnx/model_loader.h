// Importer-internal: bytes -> validated ModelProto, and the opsets it imports.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "kiln/status.h"

namespace onnx {
class ModelProto;
}  // namespace onnx

namespace kiln::onnx_import {

// The default-domain opsets whose ops the importer can bring into the IR form. Below opset 7
// only ops whose meaning has not changed are imported (legacy_opsets.h).
inline constexpr int64_t kMinSupportedOpset = 1;
inline constexpr int64_t kMaxSupportedOpset = 17;

// Reads a whole model file. NOT_FOUND "cannot open model file '<path>'" when it cannot be opened.
Result<std::string> read_model_file(const std::string& path);

// Parses and sanity-checks a ModelProto (ir_version set, graph present). `label` names the
// model in errors (its path). Truncated or corrupt bytes are DATA_LOSS.
Status parse_model(std::string_view bytes, const std::string& label, onnx::ModelProto& model);

struct Opsets {
  int64_t default_opset = 0;                  // 0 when the model imports no default-domain opset
  std::map<std::string, int64_t> by_domain;   // every imported domain, "" for the default one

  // The version a node of `domain` runs at (0 when the domain is not imported).
  int64_t opset_of(const std::string& domain) const;
};

// Reads opset_import. The default domain ("" or "ai.onnx") must be within the supported range;
// other domains are recorded (their nodes are reported as unsupported).
Result<Opsets> read_opsets(const onnx::ModelProto& model, const std::string& label);

// "" for both spellings of the default domain, else the domain unchanged.
std::string canonical_domain(const std::string& domain);

}  // namespace kiln::onnx_import
