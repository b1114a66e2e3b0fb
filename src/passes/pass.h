// A graph pass: a name plus one function that rewrites the graph in place and says whether it
// changed anything. Each pass lives in its own file under cleanup/, fold/, fuse/, ...;
// pipeline.cpp lists the order in which they run and why.
#pragma once

#include <functional>
#include <string>

#include "ir/graph.h"
#include "kiln/status.h"

namespace kiln::passes {

struct Pass {
  std::string name;
  // True when the pass changed the graph; an error leaves the graph in an unspecified state.
  std::function<Result<bool>(ir::Graph&)> run;
};

}  // namespace kiln::passes
