// Runs one official ONNX node test directory (model.onnx + test_data_set_*/) on kiln's
// reference path: import, GraphExecutor, compare every recorded output.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "tensor_compare.h"

namespace kiln::conformance {

enum class Verdict { kPassed, kFailed, kSkipped };

const char* verdict_name(Verdict verdict);

struct NodeTestResult {
  std::string name;                   // the directory name, e.g. "test_add_bcast"
  Verdict verdict = Verdict::kFailed;
  std::string reason;                 // one line; empty when passed
  // For skipped tests: the op types the UNIMPLEMENTED message names, or every op type of the
  // model when it names none. Used to group skips into a table.
  std::vector<std::string> skipped_ops;
};

NodeTestResult run_node_test(const std::filesystem::path& test_dir, const Tolerance& tolerance);

}  // namespace kiln::conformance
