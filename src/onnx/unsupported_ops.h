// Importer-internal: collects every op a model uses that kiln cannot import, so that one error
// lists them all (a user wants the whole list, not one op per attempt).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kiln/status.h"

namespace kiln::onnx_import {

class UnsupportedOps {
 public:
  // Records one node; repeated (op, domain, opset) triples keep the first node's name.
  // `reason` is empty for unknown ops, else says why a known op is unsupported here.
  void add(const std::string& op_type, const std::string& domain, int64_t opset,
           const std::string& node_name, const std::string& reason = {});
  bool empty() const { return entries_.empty(); }
  // UNIMPLEMENTED "model uses 2 unsupported ops: NonMaxSuppression (opset 11, node 'nms_1'), ..."
  Status to_status() const;

 private:
  struct Entry {
    std::string op_type;
    std::string domain;
    int64_t opset = 0;
    std::string node_name;
    std::string reason;
  };
  std::vector<Entry> entries_;
};

}  // namespace kiln::onnx_import
