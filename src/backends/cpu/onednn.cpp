#include "backends/cpu/onednn.h"

#include <xmmintrin.h>

#include <omp.h>

#include "core/fused_activation.h"

namespace kiln::backends::cpu {

const dnnl::engine& cpu_engine() {
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream& thread_stream() {
  thread_local dnnl::stream stream(cpu_engine());
  return stream;
}

namespace {
constexpr unsigned kFlushToZero = 0x8000;       // MXCSR.FTZ: denormal results become 0
constexpr unsigned kDenormalsAreZero = 0x0040;  // MXCSR.DAZ: denormal inputs read as 0
}  // namespace

void use_threads(int threads) {
  if (omp_get_max_threads() != threads) omp_set_num_threads(threads);
  // Denormal floats (softmax probabilities of far-below-max scores) cost microcode assists in
  // every AVX-512 FMA that reads them; inference flushes them to zero, as GPU kernels do. Set
  // once per pool of this caller's OpenMP threads (the MXCSR is per thread).
  thread_local int flushed_for = 0;
  if (flushed_for != threads) {
#pragma omp parallel num_threads(threads)
    _mm_setcsr(_mm_getcsr() | kFlushToZero | kDenormalsAreZero);
    _mm_setcsr(_mm_getcsr() | kFlushToZero | kDenormalsAreZero);
    flushed_for = threads;
  }
}

dnnl::memory::dims to_dims(const std::vector<int64_t>& dims) { return dnnl::memory::dims(dims.begin(), dims.end()); }

namespace {

struct Eltwise {
  dnnl::algorithm algorithm = dnnl::algorithm::undef;
  float alpha = 0.0f;
  float beta = 0.0f;
};

// The oneDNN eltwise computing each fused activation (same definitions: HardSwish is
// x * relu6(x + 3) / 6 in both, Clip is clip_v2's [alpha, beta]).
Result<Eltwise> eltwise_for(const Attributes& attrs) {
  KILN_ASSIGN_OR_RETURN(FusedActivationSpec spec, decode_fused_activation(attrs));
  using A = dnnl::algorithm;
  switch (spec.kind) {
    case FusedActivation::kNone: return Eltwise{};
    case FusedActivation::kRelu: return Eltwise{A::eltwise_relu};
    case FusedActivation::kLeakyRelu: return Eltwise{A::eltwise_relu, spec.alpha};
    case FusedActivation::kSigmoid: return Eltwise{A::eltwise_logistic};
    case FusedActivation::kTanh: return Eltwise{A::eltwise_tanh};
    case FusedActivation::kGelu: return Eltwise{A::eltwise_gelu_erf};
    case FusedActivation::kGeluTanh: return Eltwise{A::eltwise_gelu_tanh};
    case FusedActivation::kHardSwish: return Eltwise{A::eltwise_hardswish};
    case FusedActivation::kClip: return Eltwise{A::eltwise_clip_v2, spec.min, spec.max};
  }
  return unimplemented("activation has no oneDNN eltwise");
}

}  // namespace

bool activation_supported(const Attributes& attrs) { return eltwise_for(attrs).ok(); }

Status append_activation(const Attributes& attrs, dnnl::post_ops& ops) {
  KILN_ASSIGN_OR_RETURN(Eltwise e, eltwise_for(attrs));
  if (e.algorithm != dnnl::algorithm::undef) ops.append_eltwise(1.0f, e.algorithm, e.alpha, e.beta);
  return Status::ok_status();
}

}  // namespace kiln::backends::cpu
