// Where the server's log lines go (model loads, engine builds, warnings). kiln serve writes
// them to stderr; tests collect them.
#pragma once

#include <functional>
#include <string>

namespace kiln::serving {

using LogFn = std::function<void(const std::string& line)>;

}  // namespace kiln::serving
