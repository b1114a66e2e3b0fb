// LayerNormalization reference kernel: statistics over axes [axis, rank), computed in double;
// Scale and B broadcast (unidirectionally) to the normalized shape. Optional outputs Mean and
// InvStdDev have the stash dtype and the input's leading dims followed by ones.
#include <cmath>

#include "backends/reference/kernels/nn_kernels.h"
#include "core/norm_params.h"

namespace kiln::reference::nn {
namespace {

enum LayerNormInput : size_t { kX = 0, kScale = 1, kBias = 2 };
enum LayerNormOutput : size_t { kY = 0, kMeanOut = 1, kInvStdDevOut = 2 };
constexpr float kDefaultEpsilon = 1e-5f;

// For every element of the normalized shape, the flat index of the `param` element it reads
// under right-aligned broadcasting; an error when `param` does not broadcast to it.
Result<std::vector<int64_t>> broadcast_map(const Tensor& param, const Shape& normalized, const char* name) {
  const Shape& ps = param.shape();
  if (ps.rank() > normalized.rank())
    return invalid_argument(std::string("input '") + name + "' has shape " + ps.to_string() +
                            ", which does not broadcast to the normalized shape " + normalized.to_string());
  const size_t lead = normalized.rank() - ps.rank();
  std::vector<int64_t> pstrides = contiguous_strides(ps);
  for (size_t d = 0; d < ps.rank(); ++d) {
    if (ps[d] != 1 && ps[d] != normalized[lead + d])
      return invalid_argument(std::string("input '") + name + "' has shape " + ps.to_string() +
                              ", which does not broadcast to the normalized shape " + normalized.to_string());
    if (ps[d] == 1) pstrides[d] = 0;
  }
  std::vector<int64_t> map;
  map.reserve(static_cast<size_t>(normalized.numel()));
  for_each_index(normalized, [&](const std::vector<int64_t>& index) {
    int64_t off = 0;
    for (size_t d = 0; d < ps.rank(); ++d) off += index[lead + d] * pstrides[d];
    map.push_back(off);
  });
  return map;
}

Status layer_norm_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_float_input(ctx, kX, "X"));
  KILN_ASSIGN_OR_RETURN(const Tensor* scale_t, required_float_input(ctx, kScale, "Scale"));
  const Tensor* bias_t = ctx.input(kBias);
  if (bias_t && !bias_t->defined()) bias_t = nullptr;
  const Attributes& attrs = ctx.attributes();
  KILN_ASSIGN_OR_RETURN(size_t axis, layer_norm_first_axis(attrs, x->rank()));
  KILN_ASSIGN_OR_RETURN(DType stash, layer_norm_stash_dtype(attrs));
  const double epsilon = attrs.get_float("epsilon", kDefaultEpsilon);

  const Shape normalized(std::vector<int64_t>(x->shape().dims().begin() + static_cast<std::ptrdiff_t>(axis),
                                              x->shape().dims().end()));
  const int64_t inner = normalized.numel();
  const int64_t outer = inner > 0 ? x->numel() / inner : 0;
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> scale_at, broadcast_map(*scale_t, normalized, "Scale"));
  std::vector<int64_t> bias_at;
  if (bias_t) {
    KILN_ASSIGN_OR_RETURN(bias_at, broadcast_map(*bias_t, normalized, "B"));
  }
  const std::vector<double> scale = to_doubles(*scale_t);
  const std::vector<double> bias = bias_t ? to_doubles(*bias_t) : std::vector<double>();
  std::vector<double> y = to_doubles(*x);
  std::vector<double> means(static_cast<size_t>(outer)), inv_stds(static_cast<size_t>(outer));
  for (int64_t o = 0; o < outer; ++o) {
    double* row = y.data() + o * inner;
    double sum = 0.0;
    for (int64_t i = 0; i < inner; ++i) sum += row[i];
    const double mean = sum / static_cast<double>(inner);
    double squares = 0.0;
    for (int64_t i = 0; i < inner; ++i) squares += (row[i] - mean) * (row[i] - mean);
    const double inv_std = 1.0 / std::sqrt(squares / static_cast<double>(inner) + epsilon);
    for (int64_t i = 0; i < inner; ++i) {
      const auto at = static_cast<size_t>(i);
      row[i] = (row[i] - mean) * inv_std * scale[static_cast<size_t>(scale_at[at])] +
               (bias_t ? bias[static_cast<size_t>(bias_at[at])] : 0.0);
    }
    means[static_cast<size_t>(o)] = mean;
    inv_stds[static_cast<size_t>(o)] = inv_std;
  }
  ctx.outputs[kY] = from_doubles(x->dtype(), x->shape(), y);
  std::vector<int64_t> stat_dims = x->shape().dims();
  for (size_t d = axis; d < stat_dims.size(); ++d) stat_dims[d] = 1;
  if (ctx.num_outputs() > kMeanOut) ctx.outputs[kMeanOut] = from_doubles(stash, Shape(stat_dims), means);
  if (ctx.num_outputs() > kInvStdDevOut) ctx.outputs[kInvStdDevOut] = from_doubles(stash, Shape(stat_dims), inv_stds);
  return {};
}

}  // namespace

void register_layer_norm_kernels(KernelTable& table) { table.add(OpKind::LayerNormalization, layer_norm_kernel); }

}  // namespace kiln::reference::nn
