// Row primitives shared by Softmax, LayerNormalization and attention: vectorized loops over one
// contiguous row. Each is built for AVX2+FMA and baseline x86-64 (vector_math.h).
#pragma once

#include <cstdint>

namespace kiln::backends::cpu {

// y = softmax(x * scale + mask) over n elements; mask may be nullptr (and is read with stride
// mask_step, 0 or 1). y may alias x.
void softmax_row(const float* x, float scale, const float* mask, int64_t mask_step, float* y, int64_t n);

// y = (x - mean) / sqrt(var + epsilon) * gamma + beta over n elements; beta may be nullptr.
void layer_norm_row(const float* x, const float* gamma, const float* beta, float epsilon, float* y, int64_t n);

// Sum of n elements (fixed summation order, eight partial sums).
float sum_row(const float* x, int64_t n);

}  // namespace kiln::backends::cpu
