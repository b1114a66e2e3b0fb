// The HTTP body tracker (apps/kiln/http_body_tracker.h) on arbitrary connection bytes in
// arbitrary read splits: it must never crash, and never ask for more bytes than it believes the
// current body still holds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "http_body_tracker.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks the read size, so the same stream is also tried in other splits.
  const size_t piece = 1 + data[0] % 64;
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  kiln::cli::serve::HttpBodyTracker tracker;
  while (!bytes.empty()) {
    const size_t n = bytes.size() < piece ? bytes.size() : piece;
    tracker.on_bytes(bytes.substr(0, n));
    bytes.remove_prefix(n);
    const int mark = tracker.low_water_mark();
    if (mark < 1 || static_cast<uint64_t>(mark) > kiln::cli::serve::HttpBodyTracker::kMaxLowWaterMark) std::abort();
    if (mark > 1 && static_cast<uint64_t>(mark) > tracker.body_left()) std::abort();
  }
  return 0;
}
