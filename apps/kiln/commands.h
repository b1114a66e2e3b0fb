// Each subcommand registers its options on the parent app and returns the action to run when
// it was selected. Actions return a Status; main turns failures into "kiln: error: ..." and
// exit code 2.
#pragma once

#include <cstdlib>
#include <functional>
#include <string>

#include <CLI/CLI.hpp>

#include "kiln/status.h"

namespace kiln::cli {

struct Subcommand {
  CLI::App* app = nullptr;
  std::function<Status()> run;
};

// A numeric option check that rejects values below `min` ("must be at least 1").
inline CLI::Validator at_least(double min, const std::string& min_text) {
  return CLI::Validator(
      [min, min_text](std::string& text) -> std::string {
        char* end = nullptr;
        const double value = std::strtod(text.c_str(), &end);
        if (text.empty() || end != text.c_str() + text.size()) return "'" + text + "' is not a number";
        if (!(value >= min)) return "must be at least " + min_text + ", got " + text;
        return {};
      },
      ">= " + min_text);
}

Subcommand add_inspect_command(CLI::App& parent);
Subcommand add_run_command(CLI::App& parent);
Subcommand add_bench_command(CLI::App& parent);
Subcommand add_serve_command(CLI::App& parent);
Subcommand add_build_command(CLI::App& parent);
Subcommand add_perf_command(CLI::App& parent);

}  // namespace kiln::cli
