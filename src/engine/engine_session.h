// Session over a runtime::Engine: a pool of execution contexts, one per concurrent caller, so
// Session::run stays thread-safe while each context runs on its own stream and arena.
#pragma once

#include <memory>
#include <string>

#include "ir/graph.h"
#include "kiln/session.h"

namespace kiln::engine {

Result<std::unique_ptr<Session>> open_plan_session(const std::string& plan_path, const SessionOptions& options);
// Builds an engine in memory (options.backend, precision, shapes) and opens it.
Result<std::unique_ptr<Session>> build_engine_session(ir::Graph graph, const std::string& model_path,
                                                      const SessionOptions& options);

}  // namespace kiln::engine
