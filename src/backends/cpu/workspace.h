// Carving one kernel's workspace into aligned pieces (oneDNN scratchpad, reordered activations).
#pragma once

#include <cstddef>
#include <cstdint>

namespace kiln::backends::cpu {

inline constexpr size_t kWorkspaceAlignment = 64;  // a cache line; oneDNN's preferred alignment

inline size_t align_up(size_t bytes) { return (bytes + kWorkspaceAlignment - 1) / kWorkspaceAlignment * kWorkspaceAlignment; }

// Offsets of consecutive pieces; `total` is what workspace_bytes() reports.
class WorkspaceLayout {
 public:
  size_t add(size_t bytes) {
    const size_t offset = total_;
    total_ += align_up(bytes);
    return offset;
  }
  size_t total() const { return total_; }

 private:
  size_t total_ = 0;
};

inline void* workspace_at(void* workspace, size_t offset) { return static_cast<std::byte*>(workspace) + offset; }

}  // namespace kiln::backends::cpu
