// Private to the nn reference kernels (conv*.cpp, pool.cpp, normalization*.cpp, pad.cpp):
// per-group registration and the input checks they share.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "backends/reference/kernel.h"
#include "backends/reference/kernel_util.h"

namespace kiln::reference::nn {

void register_conv_kernels(KernelTable& table);
void register_conv_transpose_kernels(KernelTable& table);
void register_pool_kernels(KernelTable& table);
void register_normalization_kernels(KernelTable& table);
void register_layer_norm_kernels(KernelTable& table);
void register_pad_kernels(KernelTable& table);

// Input `i`, or an error naming it when it is absent.
Result<const Tensor*> required_input(const KernelContext& ctx, size_t i, const char* name);

// Input `i` present and floating point (the dtypes the float-only nn ops accept).
Result<const Tensor*> required_float_input(const KernelContext& ctx, size_t i, const char* name);

// Error unless `t` has rank >= `min_rank`.
Status require_min_rank(const Tensor& t, size_t min_rank, const char* name);

// Error unless `t` is 1-D with `count` elements (per-channel parameters).
Status require_vector(const Tensor& t, int64_t count, const char* name);

// Product of dims [first, rank).
int64_t volume_from(const Shape& shape, size_t first);

}  // namespace kiln::reference::nn
