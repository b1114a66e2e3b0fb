// Helpers shared by the kiln subcommands: the exit-code contract, --shapes parsing and human
// readable numbers.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "kiln/shape.h"
#include "kiln/status.h"

namespace kiln::cli {

// The exit-code contract that scripts and tests rely on.
enum ExitCode : int {
  kExitSuccess = 0,
  kExitError = 2,  // bad input, bad usage, or a failure while running the model
};

// Prints "kiln: error: <message>" on one line to stderr and returns kExitError.
int report_error(const std::string& message);

// Parses "NAME:DxDxD,NAME2:D" (the --shapes syntax); each --shapes occurrence is one element of
// `specs`. The name is everything before the last ':', so names such as "input:0" work.
Result<std::map<std::string, Shape>> parse_shape_specs(const std::vector<std::string>& specs);

// A model path that exists and is a regular file (the importer then reports what is wrong inside).
Status check_model_file(const std::string& path);

// "1.23 G" style numbers (SI prefixes) and "4.5 MiB" style byte counts.
std::string human_count(double value);
std::string human_bytes(double bytes);

// A file name that is safe on every platform: characters outside [A-Za-z0-9._-] become '_',
// and names that would be hidden or special ("", ".", "..") get a prefix.
std::string sanitize_file_name(const std::string& name);

}  // namespace kiln::cli
