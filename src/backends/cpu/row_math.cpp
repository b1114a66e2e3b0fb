#include "backends/cpu/row_math.h"

#include <cmath>

#include "backends/cpu/vector_math.h"

namespace kiln::backends::cpu {
namespace {

// Eight independent partial sums let the compiler keep one vector accumulator (and keep the sum
// order fixed, so results do not depend on the vector width chosen at load time).
constexpr int kLanes = 8;

KILN_CPU_CLONES float row_max(const float* x, float scale, const float* mask, int64_t mask_step, int64_t n) {
  float lanes[kLanes];
  for (float& l : lanes) l = -INFINITY;
  int64_t i = 0;
  if (mask) {
    for (; i + kLanes <= n; i += kLanes)
      for (int l = 0; l < kLanes; ++l) {
        const float v = x[i + l] * scale + mask[(i + l) * mask_step];
        lanes[l] = v > lanes[l] ? v : lanes[l];
      }
  } else {
    for (; i + kLanes <= n; i += kLanes)
      for (int l = 0; l < kLanes; ++l) {
        const float v = x[i + l] * scale;
        lanes[l] = v > lanes[l] ? v : lanes[l];
      }
  }
  float m = -INFINITY;
  for (float l : lanes) m = l > m ? l : m;
  for (; i < n; ++i) {
    const float v = x[i] * scale + (mask ? mask[i * mask_step] : 0.0f);
    m = v > m ? v : m;
  }
  return m;
}

// y = exp(x * scale + mask - max); returns the sum.
KILN_CPU_CLONES float exp_row(const float* x, float scale, const float* mask, int64_t mask_step, float max, float* y,
                              int64_t n) {
  float lanes[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) {
      const float m = mask ? mask[(i + l) * mask_step] : 0.0f;
      const float e = vmath::exp(x[i + l] * scale + m - max);
      y[i + l] = e;
      lanes[l] += e;
    }
  float sum = 0.0f;
  for (float l : lanes) sum += l;
  for (; i < n; ++i) {
    const float e = vmath::exp(x[i] * scale + (mask ? mask[i * mask_step] : 0.0f) - max);
    y[i] = e;
    sum += e;
  }
  return sum;
}

KILN_CPU_CLONES void scale_row(float* y, float factor, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] *= factor;
}

KILN_CPU_CLONES float squared_deviation_row(const float* x, float mean, int64_t n) {
  float lanes[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) {
      const float d = x[i + l] - mean;
      lanes[l] += d * d;
    }
  float sum = 0.0f;
  for (float l : lanes) sum += l;
  for (; i < n; ++i) sum += (x[i] - mean) * (x[i] - mean);
  return sum;
}

KILN_CPU_CLONES void normalize_row(const float* x, float mean, float inv_std, const float* gamma, const float* beta,
                                   float* y, int64_t n) {
  if (beta) {
    for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - mean) * inv_std * gamma[i] + beta[i];
  } else {
    for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - mean) * inv_std * gamma[i];
  }
}

}  // namespace

KILN_CPU_CLONES float sum_row(const float* x, int64_t n) {
  float lanes[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) lanes[l] += x[i + l];
  float sum = 0.0f;
  for (float l : lanes) sum += l;
  for (; i < n; ++i) sum += x[i];
  return sum;
}

void softmax_row(const float* x, float scale, const float* mask, int64_t mask_step, float* y, int64_t n) {
  const float max = row_max(x, scale, mask, mask_step, n);
  if (std::isinf(max) && max < 0) {
    // Every position masked out: the reference's exp(-inf - -inf) is NaN; keep that meaning.
    for (int64_t i = 0; i < n; ++i) y[i] = NAN;
    return;
  }
  const float sum = exp_row(x, scale, mask, mask_step, max, y, n);
  scale_row(y, 1.0f / sum, n);
}

void layer_norm_row(const float* x, const float* gamma, const float* beta, float epsilon, float* y, int64_t n) {
  // Two passes (mean, then squared deviations): the one-pass E[x^2] - E[x]^2 loses digits when
  // the mean is large against the spread.
  const float mean = sum_row(x, n) / static_cast<float>(n);
  const float var = squared_deviation_row(x, mean, n) / static_cast<float>(n);
  normalize_row(x, mean, 1.0f / std::sqrt(var + epsilon), gamma, beta, y, n);
}

}  // namespace kiln::backends::cpu
