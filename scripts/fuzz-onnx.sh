#!/usr/bin/env bash
# Fuzzes the ONNX importer with libFuzzer (clang, ASan + UBSan).
#   scripts/fuzz-onnx.sh [SECONDS]     (default 600)
# KILN_FUZZ_IMPORT_ONLY=1 skips shape inference (see fuzz/onnx_import_fuzzer.cpp).
# Builds into build-fuzz/, seeds build-fuzz/corpus with small valid models, and exits non-zero
# when the fuzzer finds a crash (the reproducer is written to build-fuzz/artifacts/).
set -euo pipefail

seconds="${1:-600}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${root}/build-fuzz"
rss_limit_mb=2048

# The libraries get coverage instrumentation and sanitizers; only the fuzzer links libFuzzer.
CXX="${CXX:-clang++}" cmake -S "${root}" -B "${build}" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DKILN_BUILD_FUZZERS=ON -DKILN_BUILD_TESTS=OFF \
  -DKILN_SANITIZE=address,undefined \
  -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link"
ninja -C "${build}" onnx_import_fuzzer onnx_fuzz_seeds

mkdir -p "${build}/corpus" "${build}/artifacts"
"${build}/fuzz/onnx_fuzz_seeds" "${build}/corpus"

# Leaks are checked at exit of each input by ASan's LeakSanitizer (detect_leaks=1).
ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1" \
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
"${build}/fuzz/onnx_import_fuzzer" "${build}/corpus" \
  -max_total_time="${seconds}" -rss_limit_mb="${rss_limit_mb}" \
  -artifact_prefix="${build}/artifacts/" -print_final_stats=1
