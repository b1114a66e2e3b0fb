// The allow-list of official ONNX node tests whose recorded data is wrong (known_data_errors.txt):
// test name -> one-line reason. The runner reports such tests in their own category instead of
// counting them as passed or failed.
#pragma once

#include <map>
#include <string>

#include "kiln/status.h"

namespace kiln::conformance {

using KnownDataErrors = std::map<std::string, std::string>;

// Reads `path`: one "test_name reason..." entry a line; blank lines and lines starting with '#'
// are ignored. Errors name the file and line (a missing reason, a repeated test name).
Result<KnownDataErrors> read_known_data_errors(const std::string& path);

}  // namespace kiln::conformance
