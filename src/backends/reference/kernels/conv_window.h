// The loop nest shared by Conv and ConvTranspose. Both visit, for every kernel tap, the pairs
// (iteration position j, target position t = j * stride + tap * dilation - pad_begin) on each
// spatial axis, keeping only pairs where t lies inside its extent. For Conv the iteration space
// is the output and the target the input; for ConvTranspose it is the other way round.
//
// The valid j range of every (axis, tap) is computed once, so the innermost loop (the last
// spatial axis) runs without bounds checks over contiguous iteration elements.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace kiln::reference::nn {

struct PassAxis {
  int64_t iter_count = 0;     // positions j along this axis
  int64_t target_extent = 0;  // valid t are [0, target_extent)
  int64_t stride = 1;
  int64_t dilation = 1;
  int64_t pad_begin = 0;
  int64_t kernel = 1;
};

struct IndexRange {
  int64_t begin = 0;
  int64_t end = 0;
};

// The j in [0, count) with 0 <= j * stride + shift < extent.
inline IndexRange valid_positions(int64_t shift, int64_t extent, int64_t stride, int64_t count) {
  const int64_t low = -shift;
  const int64_t high = extent - 1 - shift;
  IndexRange r;
  r.begin = low <= 0 ? 0 : (low + stride - 1) / stride;
  r.end = high < 0 ? 0 : std::min(count, high / stride + 1);
  r.end = std::max(r.end, r.begin);
  return r;
}

class WindowPass {
 public:
  explicit WindowPass(std::vector<PassAxis> axes) : axes_(std::move(axes)) {
    const size_t rank = axes_.size();
    iter_strides_.assign(rank, 1);
    target_strides_.assign(rank, 1);
    for (size_t a = rank; a-- > 1;) {
      iter_strides_[a - 1] = iter_strides_[a] * axes_[a].iter_count;
      target_strides_[a - 1] = target_strides_[a] * axes_[a].target_extent;
    }
    volume_ = 1;
    for (const PassAxis& axis : axes_) volume_ *= axis.kernel;
    taps_.resize(static_cast<size_t>(volume_) * rank);
    ranges_.resize(taps_.size());
    for (int64_t tap = 0; tap < volume_; ++tap) {
      int64_t rest = tap;
      for (size_t a = rank; a-- > 0;) {
        const size_t slot = static_cast<size_t>(tap) * rank + a;
        taps_[slot] = rest % axes_[a].kernel;
        rest /= axes_[a].kernel;
        ranges_[slot] = valid_positions(shift(a, taps_[slot]), axes_[a].target_extent, axes_[a].stride,
                                        axes_[a].iter_count);
      }
    }
    position_.resize(rank);
  }

  int64_t kernel_volume() const { return volume_; }
  int64_t last_stride() const { return axes_.back().stride; }

  // Calls row(iter_offset, target_offset, begin, end) for every row of `tap` (a flat kernel
  // index): for j in [begin, end) the iteration element is iter_offset + j and the target
  // element target_offset + j * last_stride(); offsets are within one channel plane.
  template <class RowFn>
  void for_each_row(int64_t tap, RowFn&& row) {
    const size_t rank = axes_.size();
    const IndexRange* ranges = &ranges_[static_cast<size_t>(tap) * rank];
    const int64_t* taps = &taps_[static_cast<size_t>(tap) * rank];
    for (size_t a = 0; a < rank; ++a)
      if (ranges[a].begin >= ranges[a].end) return;
    const size_t last = rank - 1;
    for (size_t a = 0; a < last; ++a) position_[a] = ranges[a].begin;
    const int64_t last_shift = shift(last, taps[last]);
    while (true) {
      int64_t iter_offset = 0;
      int64_t target_offset = last_shift;
      for (size_t a = 0; a < last; ++a) {
        iter_offset += position_[a] * iter_strides_[a];
        target_offset += (position_[a] * axes_[a].stride + shift(a, taps[a])) * target_strides_[a];
      }
      row(iter_offset, target_offset, ranges[last].begin, ranges[last].end);
      size_t a = last;
      bool advanced = false;
      while (a > 0 && !advanced) {
        --a;
        if (++position_[a] < ranges[a].end) advanced = true;
        else position_[a] = ranges[a].begin;
      }
      if (!advanced) return;
    }
  }

 private:
  int64_t shift(size_t axis, int64_t tap) const { return tap * axes_[axis].dilation - axes_[axis].pad_begin; }

  std::vector<PassAxis> axes_;
  std::vector<int64_t> iter_strides_;
  std::vector<int64_t> target_strides_;
  int64_t volume_ = 1;
  std::vector<int64_t> taps_;
  std::vector<IndexRange> ranges_;
  std::vector<int64_t> position_;  // odometer over the outer axes
};

}  // namespace kiln::reference::nn
