// Names a thread as top, ps -L, perf and gdb show it: kiln serve's I/O loops and model
// instances are otherwise all called "kiln", and their CPU time cannot be told apart.
#pragma once

#include <string>

namespace kiln {

// Names the calling thread; Linux keeps the first 15 characters. Best effort: no error.
void set_current_thread_name(const std::string& name);

}  // namespace kiln
