#include "core/thread_name.h"

#include <pthread.h>

namespace kiln {

void set_current_thread_name(const std::string& name) {
  constexpr size_t kLinuxNameLength = 15;
  (void)pthread_setname_np(pthread_self(), name.substr(0, kLinuxNameLength).c_str());
}

}  // namespace kiln
