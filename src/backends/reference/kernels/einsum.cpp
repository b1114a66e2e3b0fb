// Einsum by a straightforward nested sum: for every output index, sum over all values of the
// labels that the output drops, multiplying one element of each operand.
#include <string>
#include <vector>

#include "backends/reference/kernel_util.h"
#include "backends/reference/kernels/linalg_kernels.h"
#include "core/einsum_equation.h"

namespace kiln::reference::linalg {
namespace {

constexpr int64_t kUnsized = -1;

// The size of every label, checking that operands agree (1 broadcasts, as for ellipsis dims).
Result<std::vector<int64_t>> label_sizes(const EinsumEquation& eq, const std::vector<const Tensor*>& operands) {
  std::vector<int64_t> sizes(eq.num_labels, kUnsized);
  for (size_t i = 0; i < operands.size(); ++i) {
    for (size_t d = 0; d < operands[i]->rank(); ++d) {
      int64_t& size = sizes[eq.inputs[i][d]];
      const int64_t dim = operands[i]->shape()[d];
      if (size == kUnsized || size == 1) size = dim;
      else if (dim != 1 && dim != size)
        return invalid_argument("Einsum: operand " + std::to_string(i) + " dim " + std::to_string(d) + " has size " +
                                std::to_string(dim) + " but its subscript elsewhere has size " + std::to_string(size));
    }
  }
  return sizes;
}

Status einsum_kernel(KernelContext& ctx) {
  if (ctx.num_inputs() == 0) return invalid_argument("Einsum: at least one input is required");
  std::vector<const Tensor*> operands;
  std::vector<size_t> ranks;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    const Tensor* t = ctx.input(i);
    if (!t) return invalid_argument("Einsum: input " + std::to_string(i) + " is missing");
    if (t->dtype() != ctx.input(0)->dtype()) return invalid_argument("Einsum: all inputs must have the same dtype");
    operands.push_back(t);
    ranks.push_back(t->rank());
  }
  const DType dtype = operands[0]->dtype();
  if (dtype == DType::kBool || dtype == DType::kBytes || dtype == DType::kUndefined) return unsupported_dtype("Einsum", dtype);
  KILN_ASSIGN_OR_RETURN(EinsumEquation eq, parse_einsum_equation(ctx.attributes().get_string("equation", ""), ranks));
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> sizes, label_sizes(eq, operands));

  std::vector<bool> in_output(eq.num_labels, false);
  Shape out_shape;
  for (size_t label : eq.output) {
    in_output[label] = true;
    out_shape.dims().push_back(sizes[label]);
  }
  std::vector<size_t> summed;
  Shape summed_shape;
  for (size_t label = 0; label < eq.num_labels; ++label) {
    if (in_output[label] || sizes[label] == kUnsized) continue;
    summed.push_back(label);
    summed_shape.dims().push_back(sizes[label]);
  }
  // Per operand and dim: the element stride, or 0 where a size-1 dim broadcasts.
  std::vector<std::vector<int64_t>> strides;
  for (const Tensor* t : operands) {
    std::vector<int64_t> s = contiguous_strides(t->shape());
    for (size_t d = 0; d < s.size(); ++d)
      if (t->shape()[d] == 1) s[d] = 0;
    strides.push_back(std::move(s));
  }

  Tensor out(dtype, out_shape);
  visit_dtype(dtype, [&](auto tag) {
    using T = decltype(tag);
    using Acc = AccumulatorOf<T>;
    std::vector<std::vector<Acc>> values;
    for (const Tensor* t : operands) {
      std::vector<Acc> v(static_cast<size_t>(t->numel()));
      for (size_t i = 0; i < v.size(); ++i) v[i] = to_accumulator(t->data<T>()[i]);
      values.push_back(std::move(v));
    }
    std::vector<int64_t> label_value(eq.num_labels, 0);
    T* out_data = out.data<T>();
    size_t o = 0;
    for_each_index(out_shape, [&](const std::vector<int64_t>& out_index) {
      for (size_t d = 0; d < eq.output.size(); ++d) label_value[eq.output[d]] = out_index[d];
      Acc sum = Acc(0);
      for_each_index(summed_shape, [&](const std::vector<int64_t>& summed_index) {
        for (size_t d = 0; d < summed.size(); ++d) label_value[summed[d]] = summed_index[d];
        Acc product = Acc(1);
        for (size_t i = 0; i < operands.size(); ++i) {
          int64_t offset = 0;
          for (size_t d = 0; d < eq.inputs[i].size(); ++d) offset += label_value[eq.inputs[i][d]] * strides[i][d];
          product *= values[i][static_cast<size_t>(offset)];
        }
        sum += product;
      });
      out_data[o++] = from_accumulator<T>(sum);
    });
  });
  ctx.outputs[0] = std::move(out);
  return {};
}

}  // namespace

void register_einsum_kernel(KernelTable& table) { table.add(OpKind::Einsum, einsum_kernel); }

}  // namespace kiln::reference::linalg
