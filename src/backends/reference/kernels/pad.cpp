// Pad reference kernel for every fixed-size dtype (bool and int64 included): modes constant,
// reflect and edge; negative pads crop. Elements are copied as raw bytes, so no value is ever
// converted. Each output axis gets a table mapping output position -> source position (or
// "constant"), built once per call.
#include <cstring>

#include "backends/reference/kernels/nn_kernels.h"
#include "core/pad_params.h"

namespace kiln::reference::nn {
namespace {

enum PadInput : size_t { kData = 0, kPads = 1, kConstantValue = 2, kAxes = 3 };
constexpr int64_t kUseConstant = -1;

// Source position along one axis for every output position.
std::vector<int64_t> source_positions(PadMode mode, int64_t input, int64_t begin, int64_t end, int64_t output) {
  const int64_t lo = std::max<int64_t>(0, -begin);
  const int64_t hi = input - std::max<int64_t>(0, -end);
  std::vector<int64_t> map(static_cast<size_t>(output));
  for (int64_t o = 0; o < output; ++o) {
    int64_t i = o - begin;
    if (i < lo || i >= hi) {
      if (mode == PadMode::kConstant) i = kUseConstant;
      else if (mode == PadMode::kEdge) i = i < lo ? lo : hi - 1;
      else i = i < lo ? 2 * lo - i : 2 * (hi - 1) - i;
    }
    map[static_cast<size_t>(o)] = i;
  }
  return map;
}

Status pad_kernel(KernelContext& ctx) {
  KILN_ASSIGN_OR_RETURN(const Tensor* data, required_input(ctx, kData, "data"));
  KILN_ASSIGN_OR_RETURN(const Tensor* pads_t, required_input(ctx, kPads, "pads"));
  const size_t element_size = dtype_size(data->dtype());
  if (element_size == 0) return unsupported_dtype("Pad", data->dtype());
  KILN_ASSIGN_OR_RETURN(PadMode mode, decode_pad_mode(ctx.attributes()));
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> pads, to_int64s(*pads_t, "input 'pads'"));
  std::vector<int64_t> axes;
  const Tensor* axes_t = ctx.input(kAxes);
  const bool has_axes = axes_t && axes_t->defined();
  if (has_axes) {
    KILN_ASSIGN_OR_RETURN(axes, to_int64s(*axes_t, "input 'axes'"));
  }
  KILN_ASSIGN_OR_RETURN(PadAmounts amounts, resolve_pad_amounts(pads, has_axes ? &axes : nullptr, data->rank()));

  std::vector<unsigned char> fill(element_size, 0);
  const Tensor* value_t = ctx.input(kConstantValue);
  if (value_t && value_t->defined() && value_t->numel() > 0) {
    if (value_t->dtype() != data->dtype()) return invalid_argument("input 'constant_value' must have the dtype of 'data'");
    std::memcpy(fill.data(), value_t->raw_data(), element_size);
  }

  const size_t rank = data->rank();
  std::vector<int64_t> out_dims(rank);
  std::vector<std::vector<int64_t>> maps(rank);
  for (size_t d = 0; d < rank; ++d) {
    KILN_ASSIGN_OR_RETURN(out_dims[d],
                          padded_axis_size(mode, d, data->shape()[d], amounts.begin[d], amounts.end[d]));
    maps[d] = source_positions(mode, data->shape()[d], amounts.begin[d], amounts.end[d], out_dims[d]);
  }
  Tensor out(data->dtype(), Shape(out_dims));
  const std::vector<int64_t> in_strides = contiguous_strides(data->shape());
  const auto* src = static_cast<const unsigned char*>(data->raw_data());
  auto* dst = static_cast<unsigned char*>(out.raw_data());
  size_t written = 0;
  for_each_index(out.shape(), [&](const std::vector<int64_t>& index) {
    int64_t offset = 0;
    bool constant = false;
    for (size_t d = 0; d < rank && !constant; ++d) {
      const int64_t i = maps[d][static_cast<size_t>(index[d])];
      constant = i == kUseConstant;
      offset += i * in_strides[d];
    }
    const unsigned char* from = constant ? fill.data() : src + static_cast<size_t>(offset) * element_size;
    std::memcpy(dst + written * element_size, from, element_size);
    ++written;
  });
  ctx.outputs[0] = std::move(out);
  return {};
}

}  // namespace

void register_pad_kernels(KernelTable& table) { table.add(OpKind::Pad, pad_kernel); }

}  // namespace kiln::reference::nn
