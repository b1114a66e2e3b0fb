#include "onnx/unsupported_ops.h"

#include <algorithm>

namespace kiln::onnx_import {

void UnsupportedOps::add(const std::string& op_type, const std::string& domain, int64_t opset,
                         const std::string& node_name, const std::string& reason) {
  const bool seen = std::any_of(entries_.begin(), entries_.end(), [&](const Entry& e) {
    return e.op_type == op_type && e.domain == domain && e.opset == opset;
  });
  if (!seen) entries_.push_back({op_type, domain, opset, node_name, reason});
}

Status UnsupportedOps::to_status() const {
  if (entries_.empty()) return {};
  std::string message = "model uses " + std::to_string(entries_.size()) + " unsupported op" +
                        (entries_.size() == 1 ? "" : "s") + ": ";
  for (size_t i = 0; i < entries_.size(); ++i) {
    const Entry& e = entries_[i];
    if (i > 0) message += ", ";
    message += e.op_type + " (";
    if (!e.domain.empty()) message += "domain " + e.domain + ", ";
    message += "opset " + std::to_string(e.opset) + ", node '" + e.node_name + "'";
    if (!e.reason.empty()) message += ", " + e.reason;
    message += ")";
  }
  return unimplemented(message);
}

}  // namespace kiln::onnx_import
