#include "backends/cpu/onednn.h"

#include <omp.h>

namespace kiln::backends::cpu {

const dnnl::engine& cpu_engine() {
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream& thread_stream() {
  thread_local dnnl::stream stream(cpu_engine());
  return stream;
}

void use_threads(int threads) {
  if (omp_get_max_threads() != threads) omp_set_num_threads(threads);
}

dnnl::memory::dims to_dims(const std::vector<int64_t>& dims) { return dnnl::memory::dims(dims.begin(), dims.end()); }

namespace {

struct Eltwise {
  dnnl::algorithm algorithm = dnnl::algorithm::undef;
  float alpha = 0.0f;
  float beta = 0.0f;
};

// The eltwise for an activation name; algorithm undef for "" and for names oneDNN lacks.
Eltwise eltwise_for(const Attributes& attrs) {
  const std::string name = attrs.get_string("activation", "");
  using A = dnnl::algorithm;
  if (name == "Relu") return {A::eltwise_relu};
  if (name == "LeakyRelu") return {A::eltwise_relu, attrs.get_float("activation_alpha", 0.01f)};
  if (name == "Sigmoid") return {A::eltwise_logistic};
  if (name == "Tanh") return {A::eltwise_tanh};
  if (name == "Gelu") return {A::eltwise_gelu_erf};
  if (name == "GeluTanh") return {A::eltwise_gelu_tanh};
  if (name == "HardSwish") return {A::eltwise_hardswish};
  if (name == "Clip") {
    return {A::eltwise_clip_v2, attrs.get_float("activation_min", -3.402823466e38f),
            attrs.get_float("activation_max", 3.402823466e38f)};
  }
  return {};
}

}  // namespace

bool activation_supported(const Attributes& attrs) {
  return attrs.get_string("activation", "").empty() || eltwise_for(attrs).algorithm != dnnl::algorithm::undef;
}

Status append_activation(const Attributes& attrs, dnnl::post_ops& ops) {
  if (attrs.get_string("activation", "").empty()) return Status::ok_status();
  const Eltwise e = eltwise_for(attrs);
  if (e.algorithm == dnnl::algorithm::undef)
    return unimplemented("activation '" + attrs.get_string("activation", "") + "' has no oneDNN eltwise");
  ops.append_eltwise(1.0f, e.algorithm, e.alpha, e.beta);
  return Status::ok_status();
}

}  // namespace kiln::backends::cpu
