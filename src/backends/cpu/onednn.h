// The CPU backend's glue to oneDNN: the one engine, a stream per calling thread, the thread-count
// setting, fused activations as eltwise post-ops, and oneDNN errors turned into Status.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "core/attributes.h"
#include "kiln/status.h"

namespace kiln::backends::cpu {

const dnnl::engine& cpu_engine();
// Streams are not thread-safe; each thread that executes kernels gets its own, made once.
dnnl::stream& thread_stream();

// oneDNN's OpenMP runtime sizes its parallel regions from the calling thread's setting; every
// primitive creation and execution goes through this first so the backend's setting holds on
// whichever thread the runtime calls from.
void use_threads(int threads);

dnnl::memory::dims to_dims(const std::vector<int64_t>& dims);

// Whether the fused-op `activation` attribute (docs/fused-ops.md) maps to a oneDNN eltwise.
bool activation_supported(const Attributes& attrs);
// Appends the activation (if any) to `ops`.
Status append_activation(const Attributes& attrs, dnnl::post_ops& ops);

// Runs `fn` and turns a dnnl::error into a Status naming `what`.
template <class Fn>
Status onednn_call(const char* what, Fn&& fn) {
  try {
    fn();
  } catch (const dnnl::error& e) {
    return internal_error(std::string("oneDNN ") + what + ": " + e.what());
  }
  return Status::ok_status();
}

}  // namespace kiln::backends::cpu
