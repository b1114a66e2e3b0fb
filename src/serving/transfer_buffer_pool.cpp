#include "serving/transfer_buffer_pool.h"

#include <algorithm>
#include <mutex>
#include <new>
#include <vector>

#include "kiln/transfer_tensor.h"

namespace kiln::serving {
namespace {

// Capacities are rounded up to this, so requests of about one size share buffers.
constexpr size_t kGranule = size_t{1} << 20;
constexpr size_t kAlignment = 64;

}  // namespace

struct TransferBufferPool::State {
  explicit State(size_t limit) : capacity(limit) {}
  const size_t capacity;
  mutable std::mutex mutex;  // guards everything below
  std::vector<Tensor> free;  // uint8 tensors, each one pooled buffer
  size_t pooled = 0;
  size_t free_total = 0;
};

TransferBufferPool::TransferBufferPool(size_t capacity) : state_(std::make_shared<State>(capacity)) {}
TransferBufferPool::~TransferBufferPool() = default;

std::shared_ptr<uint8_t> TransferBufferPool::acquire(size_t bytes) {
  const size_t size = std::max<size_t>(bytes, 1);
  auto heap = [size] {
    auto* data = static_cast<uint8_t*>(::operator new(size, std::align_val_t{kAlignment}));
    return std::shared_ptr<uint8_t>(data, [](uint8_t* p) { ::operator delete(p, std::align_val_t{kAlignment}); });
  };
  if (size < kMinPooledBytes) return heap();
  const size_t capacity = (size + kGranule - 1) / kGranule * kGranule;
  Tensor buffer;
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    // The smallest free buffer that fits and wastes at most half of itself.
    auto best = state_->free.end();
    for (auto it = state_->free.begin(); it != state_->free.end(); ++it) {
      const size_t have = it->nbytes();
      if (have >= size && have <= 2 * capacity && (best == state_->free.end() || have < best->nbytes())) best = it;
    }
    if (best != state_->free.end()) {
      buffer = std::move(*best);
      state_->free.erase(best);
      state_->free_total -= buffer.nbytes();
    } else {
      // Room is made by dropping free buffers of other sizes, oldest first.
      while (state_->pooled + capacity > state_->capacity && !state_->free.empty()) {
        state_->pooled -= state_->free.front().nbytes();
        state_->free_total -= state_->free.front().nbytes();
        state_->free.erase(state_->free.begin());
      }
      if (state_->pooled + capacity > state_->capacity) return heap();
      state_->pooled += capacity;  // reserved now, allocated outside the lock (it takes milliseconds)
    }
  }
  if (!buffer.defined()) buffer = allocate_transfer_tensor(DType::kUInt8, Shape{static_cast<int64_t>(capacity)});
  auto* data = static_cast<uint8_t*>(buffer.raw_data());
  std::weak_ptr<State> owner = state_;
  // The deleter owns the buffer until it hands it back (or frees it when the pool is gone).
  return std::shared_ptr<uint8_t>(data, [owner, held = std::make_shared<Tensor>(std::move(buffer))](uint8_t*) mutable {
    std::shared_ptr<State> state = owner.lock();
    if (!state) return;
    std::lock_guard<std::mutex> lock(state->mutex);
    state->free_total += held->nbytes();
    state->free.push_back(std::move(*held));
  });
}

size_t TransferBufferPool::pooled_bytes() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->pooled;
}

size_t TransferBufferPool::free_bytes() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->free_total;
}

}  // namespace kiln::serving
