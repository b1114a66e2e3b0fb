// Names for write-then-rename: a file is written under a temporary name beside its final one
// and renamed over it, so readers (other threads, other processes, the next start after a crash)
// see the old file or the whole new one, never a torn one.
#pragma once

#include <string>

namespace kiln {

// `path` + ".tmp-<pid>-<n>": unique among the threads and processes writing beside `path`.
std::string temporary_name(const std::string& path);

}  // namespace kiln
