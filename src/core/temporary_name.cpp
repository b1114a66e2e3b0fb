#include "core/temporary_name.h"

#include <unistd.h>

#include <atomic>
#include <cstdint>

namespace kiln {

std::string temporary_name(const std::string& path) {
  static std::atomic<uint64_t> counter{0};
  return path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

}  // namespace kiln
