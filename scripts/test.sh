#!/usr/bin/env bash
# The project's test command: installs dependencies, builds build-test with AddressSanitizer and
# UndefinedBehaviorSanitizer (the sanitizer build) and runs the whole ctest suite, including the
# ONNX conformance run and the ResNet-50/BERT model tests. Exits with ctest's status.
#   KILN_TEST_BUILD_DIR  build directory (default: <repo>/build-test)
#   KILN_TEST_JOBS       parallel build and test jobs (default: all cores)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${KILN_TEST_BUILD_DIR:-${repo}/build-test}"
jobs="${KILN_TEST_JOBS:-$(nproc)}"

bash "${repo}/scripts/install-deps.sh"

# Cache hits across checkouts in different folders (CI clones afresh).
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-${repo}}"

cmake -S "${repo}" -B "${build}" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DKILN_SANITIZE=address,undefined \
  -DKILN_BUILD_TESTS=ON
cmake --build "${build}" --parallel "${jobs}"

# Sanitizer reports already stop the process (-fno-sanitize-recover); show where UB happened.
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=${repo}/tests/sanitizers/lsan.supp:print_suppressions=0}"

cd "${build}"
set +e
ctest --output-on-failure -j"${jobs}"
status=$?
set -e
if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
  echo "NOTE: no CUDA device here: the GPU tests (kiln_test_cuda) were skipped." \
       "Run them on a GPU machine: scripts/gpu/package.sh, then scripts/gpu/run-tests.sh (docs/cuda-backend.md)."
fi
exit "${status}"
