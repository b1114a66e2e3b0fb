#include "backends/cpu/matmul_primitive.h"

#include <unordered_map>

#include "backends/cpu/onednn.h"

namespace kiln::backends::cpu {

std::vector<int64_t> dense_strides(const std::vector<int64_t>& dims) {
  std::vector<int64_t> strides(dims.size(), 1);
  for (size_t i = dims.size(); i-- > 1;) strides[i - 1] = strides[i] * dims[i];
  return strides;
}

Status MatmulPrimitive::prepare(const MatmulSpec& spec, int threads) {
  using md = dnnl::memory::desc;
  using dt = dnnl::memory::data_type;
  return onednn_call("matmul setup", [&] {
    use_threads(threads);
    const auto& engine = cpu_engine();
    src_ = md(to_dims(spec.src_dims), dt::f32, to_dims(spec.src_strides));
    weights_ = md(to_dims(spec.weights_dims), dt::f32, to_dims(spec.weights_strides));
    dst_ = md(to_dims(spec.dst_dims), dt::f32, to_dims(dense_strides(spec.dst_dims)));
    if (!spec.bias_dims.empty()) bias_ = md(to_dims(spec.bias_dims), dt::f32, to_dims(dense_strides(spec.bias_dims)));
    const md weights_md = spec.constant_weights
                              ? md(to_dims(spec.weights_dims), dt::f32, dnnl::memory::format_tag::any)
                              : weights_;

    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    if (spec.alpha != 1.0f) attr.set_output_scales(0, {spec.alpha});
    dnnl::post_ops ops;
    if (spec.beta != 0.0f) ops.append_sum(spec.beta);
    residual_post_op_ = -1;
    if (spec.residual) {
      residual_post_op_ = ops.len();
      ops.append_binary(dnnl::algorithm::binary_add, dst_);
    }
    if (spec.activation && !append_activation(*spec.activation, ops).ok())
      throw dnnl::error(dnnl_unimplemented, "activation");
    attr.set_post_ops(ops);
    const dnnl::matmul::desc desc = spec.bias_dims.empty() ? dnnl::matmul::desc(src_, weights_md, dst_)
                                                           : dnnl::matmul::desc(src_, weights_md, bias_, dst_);
    const dnnl::matmul::primitive_desc pd(desc, attr, engine);
    matmul_ = dnnl::matmul(pd);
    impl_ = pd.impl_info_str();
    scratchpad_ = pd.scratchpad_desc();
    if (spec.constant_weights) {
      dnnl::memory user(weights_, engine, const_cast<void*>(spec.constant_weights));
      packed_weights_ = dnnl::memory(pd.weights_desc(), engine);
      dnnl::reorder(user, packed_weights_).execute(thread_stream(), user, packed_weights_);
      thread_stream().wait();
    }
  });
}

void MatmulPrimitive::execute(const void* src, const void* weights, const void* bias, void* dst, void* scratchpad,
                              const void* residual) const {
  const auto& engine = cpu_engine();
  std::unordered_map<int, dnnl::memory> args{
      {DNNL_ARG_SRC, dnnl::memory(src_, engine, const_cast<void*>(src))},
      {DNNL_ARG_WEIGHTS, packed_weights_ ? packed_weights_ : dnnl::memory(weights_, engine, const_cast<void*>(weights))},
      {DNNL_ARG_DST, dnnl::memory(dst_, engine, dst)},
      {DNNL_ARG_SCRATCHPAD, dnnl::memory(scratchpad_, engine, scratchpad)}};
  if (bias) args[DNNL_ARG_BIAS] = dnnl::memory(bias_, engine, const_cast<void*>(bias));
  if (residual_post_op_ >= 0) {
    args[DNNL_ARG_ATTR_MULTIPLE_POST_OP(residual_post_op_) | DNNL_ARG_SRC_1] =
        dnnl::memory(dst_, engine, const_cast<void*>(residual));
  }
  matmul_.execute(thread_stream(), args);
  thread_stream().wait();
}

}  // namespace kiln::backends::cpu
