// parallel_for on the OpenMP threads oneDNN uses too (one pool, no oversubscription).
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstdint>

namespace kiln::backends::cpu {

// Calls fn(begin, end) on disjoint chunks covering [0, n), on at most `threads` threads. Work
// smaller than `grain` items per thread stays on fewer threads: waking a thread costs more than a
// few thousand flops.
template <class Fn>
void parallel_for(int64_t n, int64_t grain, int threads, Fn&& fn) {
  if (n <= 0) return;
  const int64_t useful = std::max<int64_t>(1, n / std::max<int64_t>(1, grain));
  const int team = static_cast<int>(std::min<int64_t>(threads, useful));
  if (team <= 1) {
    fn(int64_t{0}, n);
    return;
  }
#pragma omp parallel num_threads(team)
  {
    const int64_t id = omp_get_thread_num();
    const int64_t size = omp_get_num_threads();
    const int64_t begin = n * id / size;
    const int64_t end = n * (id + 1) / size;
    if (begin < end) fn(begin, end);
  }
}

}  // namespace kiln::backends::cpu
