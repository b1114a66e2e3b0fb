// kiln: the command-line front end. Subcommands live in one file each (*_command.cpp).
#include <exception>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli_common.h"
#include "commands.h"

#ifndef KILN_VERSION
#define KILN_VERSION "unknown"
#endif

int main(int argc, char** argv) {
  using namespace kiln::cli;
  CLI::App app{"kiln: ONNX models in, fast inference engines out", "kiln"};
  app.set_version_flag("--version", std::string("kiln ") + KILN_VERSION);
  app.require_subcommand(1);
  const std::vector<Subcommand> commands = {add_build_command(app), add_inspect_command(app), add_run_command(app),
                                            add_bench_command(app), add_serve_command(app), add_perf_command(app)};

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return report_error(std::string(e.what()) + " (run 'kiln --help' for usage)");
  }

  try {
    for (const Subcommand& command : commands) {
      if (!command.app->parsed()) continue;
      kiln::Status status = command.run();
      if (!status.ok()) return report_error(status.message());
      return kExitSuccess;
    }
  } catch (const std::bad_alloc&) {
    return report_error("out of memory");
  } catch (const std::exception& e) {
    return report_error(std::string("internal error: ") + e.what());
  }
  return report_error("no subcommand given (run 'kiln --help' for usage)");
}
